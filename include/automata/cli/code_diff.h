// Line diffs between two versions of a text file: the Myers O(ND) algorithm
// ("An O(ND) Difference Algorithm and Its Variations", Algorithmica 1986)
// and unified-diff output as GNU diff -u prints it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace automata::cli {

// True when the contents look binary: a NUL byte within the first 8000
// bytes, the same test git uses.
bool is_binary_content(std::string_view content);

// Splits text into lines, each keeping its trailing '\n'. The last line has
// no '\n' when the text does not end with one. Empty text has no lines.
std::vector<std::string_view> split_lines(std::string_view text);

enum class EditKind { kKeep, kDelete, kInsert };

// One step of an edit script. a_index is the line in the old text (for
// kKeep and kDelete), b_index the line in the new text (for kKeep and
// kInsert); the unused index is the position the step sits at.
struct LineEdit {
  EditKind kind = EditKind::kKeep;
  size_t a_index = 0;
  size_t b_index = 0;

  bool operator==(const LineEdit&) const = default;
};

// A shortest edit script turning a into b, in order. Within each change,
// deletions come before insertions. When more than max_edit_distance
// edits are needed, returns a script that deletes every differing line and
// inserts the new ones (correct but not minimal), which bounds memory at
// about max_edit_distance^2 ints.
std::vector<LineEdit> diff_lines(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
                                 size_t max_edit_distance = 2000);

// A unified diff of two texts with `context` lines around each change,
// headed by "--- a_label" and "+++ b_label". Returns an empty string when
// the texts are equal. A last line without '\n' is followed by
// "\ No newline at end of file".
std::string unified_diff(std::string_view a_text, std::string_view b_text, std::string_view a_label,
                         std::string_view b_label, size_t context = 3);

}  // namespace automata::cli
