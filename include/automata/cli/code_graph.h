// Draws a version history as text lanes, in the style of `git log --graph`:
// '*' marks a version, '|' continues a lane, '\' opens a lane toward a second
// parent and '/' joins a lane into the one on its left.
#pragma once

#include <string>
#include <vector>

namespace automata::cli {

struct GraphNode {
  std::string id;
  std::vector<std::string> parents;  // first parent first
  std::string label;                 // printed after the lanes on the version's row
};

// Renders nodes given newest first in topological order (every node before
// its parents). Lane i sits at column 2 * i. Each node gets one row
// "<lanes> <label>", followed by connector rows when lanes open, join or
// shift. A parent missing from the list (a history cut by a limit) keeps
// its lane open down to the last row. Lines carry no trailing spaces.
std::vector<std::string> render_graph(const std::vector<GraphNode>& nodes);

}  // namespace automata::cli
