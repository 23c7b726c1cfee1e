// Reads the line-oriented test-vector files in tests/testdata.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace automata::crypto::testing {

// Returns the path of a file in tests/testdata.
inline std::string testdata_path(const std::string& name) { return std::string(AUTOMATA_TESTDATA_DIR) + "/" + name; }

// Returns every line of the file that is neither blank nor a '#' comment, or
// an empty list when the file cannot be opened.
inline std::vector<std::string> read_vector_lines(const std::string& name) {
  std::ifstream in(testdata_path(name));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(line);
  }
  return lines;
}

// Splits a line at single spaces.
inline std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream stream(line);
  std::string field;
  while (stream >> field) fields.push_back(field);
  return fields;
}

}  // namespace automata::crypto::testing
