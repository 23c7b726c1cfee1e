// The history graph renderer on hand-built version DAGs. Expected drawings
// were written by hand in the layout `git log --graph` uses.
#include "automata/cli/code_graph.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace automata::cli {
namespace {

GraphNode node(const std::string& id, std::vector<std::string> parents) {
  return GraphNode{id, std::move(parents), id};
}

TEST(CodeGraph, LinearHistoryIsOneLane) {
  std::vector<GraphNode> nodes = {node("c3", {"c2"}), node("c2", {"c1"}), node("c1", {})};
  std::vector<std::string> expected = {"* c3", "* c2", "* c1"};
  EXPECT_EQ(render_graph(nodes), expected);
}

TEST(CodeGraph, BranchAndMergeOpenAndJoinLane) {
  // main: a1 <- a2, feature: a1 <- f1, m merges a2 (first parent) and f1.
  std::vector<GraphNode> nodes = {node("m", {"a2", "f1"}), node("f1", {"a1"}), node("a2", {"a1"}),
                                  node("a1", {})};
  std::vector<std::string> expected = {
      "* m",
      "|\\",
      "| * f1",
      "* | a2",
      "|/",
      "* a1",
  };
  EXPECT_EQ(render_graph(nodes), expected);
}

TEST(CodeGraph, TwoConcurrentBranchesMerged) {
  // Two feature branches f1 and g1 start at r while main moves a1 <- a2;
  // m1 merges f1 into main, then m2 merges g1.
  std::vector<GraphNode> nodes = {node("m2", {"m1", "g1"}), node("m1", {"a2", "f1"}), node("a2", {"a1"}),
                                  node("g1", {"r"}),         node("f1", {"r"}),         node("a1", {"r"}),
                                  node("r", {})};
  std::vector<std::string> expected = {
      "* m2",
      "|\\",
      "* | m1",
      "|\\ \\",
      "* | | a2",
      "| | * g1",
      "| * | f1",
      "| |/",
      "* | a1",
      "|/",
      "* r",
  };
  EXPECT_EQ(render_graph(nodes), expected);
}

TEST(CodeGraph, CutHistoryKeepsLaneOpen) {
  // The log stopped before f1's parent and a2's parent.
  std::vector<GraphNode> nodes = {node("m", {"a2", "f1"}), node("f1", {"x"}), node("a2", {"y"})};
  std::vector<std::string> expected = {"* m", "|\\", "| * f1", "* | a2"};
  EXPECT_EQ(render_graph(nodes), expected);
}

TEST(CodeGraph, MergeIntoExistingLeftLane) {
  // b opens lanes x and p. c starts a third lane, keeps its first parent q
  // there and joins its second parent p into p's lane on the left.
  std::vector<GraphNode> nodes = {node("b", {"x", "p"}), node("c", {"q", "p"})};
  std::vector<std::string> expected = {"* b", "|\\", "| | * c", "| |/|"};
  EXPECT_EQ(render_graph(nodes), expected);
}

TEST(CodeGraph, EveryVersionRowHasOneStar) {
  std::vector<GraphNode> nodes = {node("m2", {"m1", "g1"}), node("m1", {"a2", "f1"}), node("a2", {"a1"}),
                                  node("g1", {"r"}),         node("f1", {"r"}),         node("a1", {"r"}),
                                  node("r", {})};
  size_t version_rows = 0;
  for (const auto& row : render_graph(nodes)) {
    size_t stars = static_cast<size_t>(std::count(row.begin(), row.end(), '*'));
    EXPECT_LE(stars, 1u) << row;
    version_rows += stars;
    EXPECT_NE(row.back(), ' ') << "trailing space in '" << row << "'";
  }
  EXPECT_EQ(version_rows, nodes.size());
}

}  // namespace
}  // namespace automata::cli
