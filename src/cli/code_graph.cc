#include "automata/cli/code_graph.h"

#include <algorithm>

namespace automata::cli {

namespace {

// One line segment between two rows: it starts at text column `pos` and
// must reach text column `target`, one lane step (two columns) per row.
struct Edge {
  size_t pos = 0;
  size_t target = 0;
  bool from_node = false;  // leaves the version just drawn
};

size_t index_of(const std::vector<std::string>& lanes, const std::string& id) {
  return static_cast<size_t>(std::find(lanes.begin(), lanes.end(), id) - lanes.begin());
}

void strip_trailing_spaces(std::string* line) {
  size_t end = line->find_last_not_of(' ');
  line->erase(end == std::string::npos ? 0 : end + 1);
}

// Places ch at column i unless another character is already there.
bool put(std::string* row, size_t i, char ch) {
  if (row->size() <= i) row->resize(i + 1, ' ');
  if ((*row)[i] != ' ' && (*row)[i] != ch) return false;
  (*row)[i] = ch;
  return true;
}

// Moves each edge one lane step per row until all reach their targets.
// Lanes that only shift move first, so a line leaving the version never
// crosses one of them on the same cell: it waits a row instead.
void draw_connectors(std::vector<Edge> edges, std::vector<std::string>* out) {
  std::stable_partition(edges.begin(), edges.end(), [](const Edge& e) { return !e.from_node; });
  auto pending = [&] {
    return std::any_of(edges.begin(), edges.end(), [](const Edge& e) { return e.pos != e.target; });
  };
  while (pending()) {
    std::string row;
    for (Edge& edge : edges) {
      if (edge.pos == edge.target) {
        put(&row, edge.pos, '|');
      } else if (edge.target < edge.pos) {
        if (put(&row, edge.pos - 1, '/')) {
          edge.pos -= 2;
        } else {
          put(&row, edge.pos, '|');
        }
      } else {
        if (put(&row, edge.pos + 1, '\\')) {
          edge.pos += 2;
        } else {
          put(&row, edge.pos, '|');
        }
      }
    }
    strip_trailing_spaces(&row);
    out->push_back(row);
  }
}

}  // namespace

std::vector<std::string> render_graph(const std::vector<GraphNode>& nodes) {
  std::vector<std::string> out;
  // lanes[i] is the id of the version lane i leads to.
  std::vector<std::string> lanes;
  for (const GraphNode& node : nodes) {
    size_t column = index_of(lanes, node.id);
    if (column == lanes.size()) lanes.push_back(node.id);

    std::string row;
    for (size_t i = 0; i < lanes.size(); ++i) {
      if (i > 0) row += ' ';
      row += i == column ? '*' : '|';
    }
    if (!node.label.empty()) row += " " + node.label;
    out.push_back(row);

    // Parents already waited for by a lane join that lane; the others open
    // new lanes where the version's lane was.
    std::vector<std::string> opened;
    for (const std::string& parent : node.parents) {
      bool known = index_of(lanes, parent) < lanes.size() || index_of(opened, parent) < opened.size();
      if (!known) opened.push_back(parent);
    }
    std::vector<std::string> next(lanes.begin(), lanes.begin() + static_cast<long>(column));
    next.insert(next.end(), opened.begin(), opened.end());
    next.insert(next.end(), lanes.begin() + static_cast<long>(column) + 1, lanes.end());

    std::vector<Edge> edges;
    for (size_t j = 0; j < lanes.size(); ++j) {
      if (j == column) continue;
      edges.push_back({2 * j, 2 * index_of(next, lanes[j]), false});
    }
    std::vector<std::string> seen;
    for (const std::string& parent : node.parents) {
      if (index_of(seen, parent) < seen.size()) continue;
      seen.push_back(parent);
      edges.push_back({2 * column, 2 * index_of(next, parent), true});
    }
    draw_connectors(std::move(edges), &out);
    lanes = std::move(next);
  }
  return out;
}

}  // namespace automata::cli
