// Line diffs: the Myers edit script checked against an independent LCS
// table, and unified output checked against hand-written diffs.
#include "automata/cli/code_diff.h"

#include <gtest/gtest.h>

#include <random>

namespace automata::cli {
namespace {

using Lines = std::vector<std::string_view>;

// Replays a script on a and returns the lines it produces; fails the test
// when a kept or deleted line is out of order.
std::vector<std::string> apply_script(const Lines& a, const Lines& b, const std::vector<LineEdit>& script) {
  std::vector<std::string> out;
  size_t next_a = 0;
  for (const LineEdit& edit : script) {
    if (edit.kind == EditKind::kInsert) {
      out.emplace_back(b[edit.b_index]);
      continue;
    }
    EXPECT_EQ(edit.a_index, next_a);
    ++next_a;
    if (edit.kind == EditKind::kKeep) {
      EXPECT_EQ(a[edit.a_index], b[edit.b_index]);
      out.emplace_back(a[edit.a_index]);
    }
  }
  EXPECT_EQ(next_a, a.size());
  return out;
}

// Minimal edit count (deletions + insertions) from the LCS length, by the
// textbook O(NM) table.
size_t lcs_distance(const Lines& a, const Lines& b) {
  std::vector<std::vector<size_t>> table(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : std::max(table[i + 1][j], table[i][j + 1]);
    }
  }
  return a.size() + b.size() - 2 * table[0][0];
}

size_t edit_count(const std::vector<LineEdit>& script) {
  return static_cast<size_t>(
      std::count_if(script.begin(), script.end(), [](const LineEdit& e) { return e.kind != EditKind::kKeep; }));
}

std::vector<std::string> as_strings(const Lines& lines) { return {lines.begin(), lines.end()}; }

TEST(CodeDiff, SplitLinesKeepsNewlines) {
  Lines lines = split_lines("a\nb\n\nc");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "a\n");
  EXPECT_EQ(lines[2], "\n");
  EXPECT_EQ(lines[3], "c");
  EXPECT_TRUE(split_lines("").empty());
}

TEST(CodeDiff, PaperExampleIsMinimal) {
  // The example of Myers' paper: ABCABBA to CBABAC needs 5 edits.
  Lines a = {"A", "B", "C", "A", "B", "B", "A"};
  Lines b = {"C", "B", "A", "B", "A", "C"};
  std::vector<LineEdit> script = diff_lines(a, b);
  EXPECT_EQ(edit_count(script), 5u);
  EXPECT_EQ(apply_script(a, b, script), as_strings(b));
}

TEST(CodeDiff, RandomInputsMatchLcsDistance) {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"x", "y", "z", "w"};
  for (int round = 0; round < 300; ++round) {
    Lines a;
    Lines b;
    size_t a_size = rng() % 12;
    size_t b_size = rng() % 12;
    for (size_t i = 0; i < a_size; ++i) a.push_back(alphabet[rng() % alphabet.size()]);
    for (size_t i = 0; i < b_size; ++i) b.push_back(alphabet[rng() % alphabet.size()]);
    std::vector<LineEdit> script = diff_lines(a, b);
    ASSERT_EQ(apply_script(a, b, script), as_strings(b)) << "round " << round;
    EXPECT_EQ(edit_count(script), lcs_distance(a, b)) << "round " << round;
  }
}

TEST(CodeDiff, DistanceCapStillProducesValidScript) {
  Lines a = {"1", "2", "3", "4", "5", "6"};
  Lines b = {"a", "b", "c", "d", "e", "f"};
  std::vector<LineEdit> script = diff_lines(a, b, /*max_edit_distance=*/3);
  EXPECT_EQ(apply_script(a, b, script), as_strings(b));
  EXPECT_EQ(edit_count(script), 12u);
}

TEST(CodeDiff, DeletionsComeBeforeInsertions) {
  Lines a = {"k", "old1", "old2", "k2"};
  Lines b = {"k", "new1", "new2", "k2"};
  std::vector<LineEdit> script = diff_lines(a, b);
  ASSERT_EQ(script.size(), 6u);
  EXPECT_EQ(script[1].kind, EditKind::kDelete);
  EXPECT_EQ(script[2].kind, EditKind::kDelete);
  EXPECT_EQ(script[3].kind, EditKind::kInsert);
  EXPECT_EQ(script[4].kind, EditKind::kInsert);
}

TEST(CodeDiff, UnifiedOneChangedLine) {
  std::string expected =
      "--- a/f\n"
      "+++ b/f\n"
      "@@ -1,3 +1,3 @@\n"
      " one\n"
      "-two\n"
      "+2\n"
      " three\n";
  EXPECT_EQ(unified_diff("one\ntwo\nthree\n", "one\n2\nthree\n", "a/f", "b/f"), expected);
}

TEST(CodeDiff, UnifiedEqualTextsGiveNothing) { EXPECT_EQ(unified_diff("same\n", "same\n", "a", "b"), ""); }

TEST(CodeDiff, UnifiedAddedFile) {
  std::string expected =
      "--- /dev/null\n"
      "+++ b/new\n"
      "@@ -0,0 +1,2 @@\n"
      "+x\n"
      "+y\n";
  EXPECT_EQ(unified_diff("", "x\ny\n", "/dev/null", "b/new"), expected);
}

TEST(CodeDiff, UnifiedMissingFinalNewline) {
  std::string expected =
      "--- a\n"
      "+++ b\n"
      "@@ -1 +1 @@\n"
      "-end\n"
      "\\ No newline at end of file\n"
      "+end\n";
  EXPECT_EQ(unified_diff("end", "end\n", "a", "b"), expected);
}

TEST(CodeDiff, UnifiedFarChangesMakeTwoHunks) {
  std::string a;
  for (int i = 1; i <= 20; ++i) a += "line" + std::to_string(i) + "\n";
  std::string b = a;
  b.replace(b.find("line2\n"), 6, "LINE2\n");
  b.replace(b.find("line18\n"), 7, "LINE18\n");
  std::string expected =
      "--- a\n"
      "+++ b\n"
      "@@ -1,5 +1,5 @@\n"
      " line1\n"
      "-line2\n"
      "+LINE2\n"
      " line3\n"
      " line4\n"
      " line5\n"
      "@@ -15,6 +15,6 @@\n"
      " line15\n"
      " line16\n"
      " line17\n"
      "-line18\n"
      "+LINE18\n"
      " line19\n"
      " line20\n";
  EXPECT_EQ(unified_diff(a, b, "a", "b"), expected);
}

TEST(CodeDiff, BinaryDetectionLooksForNul) {
  EXPECT_FALSE(is_binary_content("plain text\n"));
  EXPECT_TRUE(is_binary_content(std::string("PK\x03\x04\0\0", 6)));
  std::string late_nul(9000, 'a');
  late_nul[8500] = '\0';
  EXPECT_FALSE(is_binary_content(late_nul));
}

}  // namespace
}  // namespace automata::cli
