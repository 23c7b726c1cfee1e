#include "automata/cli/code_diff.h"

#include <algorithm>

namespace automata::cli {

bool is_binary_content(std::string_view content) {
  return content.substr(0, 8000).find('\0') != std::string_view::npos;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  return lines;
}

namespace {

using Lines = std::vector<std::string_view>;

// Myers' greedy forward search over a[a_begin, a_end) and b[b_begin, b_end),
// then a backtrack through the saved frontiers. Appends the middle part of
// the script in order. Returns false (appending nothing) when the distance
// passes max_d.
bool myers_middle(const Lines& a, size_t a_begin, size_t a_end, const Lines& b, size_t b_begin, size_t b_end,
                  size_t max_d, std::vector<LineEdit>* out) {
  const long n = static_cast<long>(a_end - a_begin);
  const long m = static_cast<long>(b_end - b_begin);
  const long limit = std::min<long>(n + m, static_cast<long>(max_d));
  // frontier[d][k + d] is the furthest x reached on diagonal k = x - y after
  // d edits, for k in [-d, d].
  std::vector<std::vector<long>> frontier;
  std::vector<long> current;
  long found_d = -1;
  for (long d = 0; d <= limit && found_d < 0; ++d) {
    current.assign(static_cast<size_t>(2 * d + 1), 0);
    const std::vector<long>* previous = d > 0 ? &frontier.back() : nullptr;
    auto prev_at = [&](long k) { return (*previous)[static_cast<size_t>(k + d - 1)]; };
    for (long k = -d; k <= d; k += 2) {
      long x = 0;
      if (d == 0) {
        x = 0;
      } else if (k == -d || (k != d && prev_at(k - 1) < prev_at(k + 1))) {
        x = prev_at(k + 1);  // down: insert b[y]
      } else {
        x = prev_at(k - 1) + 1;  // right: delete a[x]
      }
      long y = x - k;
      while (x < n && y < m && a[a_begin + x] == b[b_begin + y]) {
        ++x;
        ++y;
      }
      current[static_cast<size_t>(k + d)] = x;
      if (x >= n && y >= m) found_d = d;
    }
    frontier.push_back(current);
  }
  if (found_d < 0) return false;

  std::vector<LineEdit> reversed;
  long x = n;
  long y = m;
  for (long d = found_d; d > 0; --d) {
    const std::vector<long>& previous = frontier[static_cast<size_t>(d - 1)];
    auto prev_at = [&](long k) { return previous[static_cast<size_t>(k + d - 1)]; };
    long k = x - y;
    bool down = k == -d || (k != d && prev_at(k - 1) < prev_at(k + 1));
    long prev_k = down ? k + 1 : k - 1;
    long prev_x = prev_at(prev_k);
    long prev_y = prev_x - prev_k;
    long mid_x = down ? prev_x : prev_x + 1;
    long mid_y = down ? prev_y + 1 : prev_y;
    while (x > mid_x && y > mid_y) {
      --x;
      --y;
      reversed.push_back({EditKind::kKeep, a_begin + static_cast<size_t>(x), b_begin + static_cast<size_t>(y)});
    }
    if (down) {
      reversed.push_back({EditKind::kInsert, 0, b_begin + static_cast<size_t>(prev_y)});
    } else {
      reversed.push_back({EditKind::kDelete, a_begin + static_cast<size_t>(prev_x), 0});
    }
    x = prev_x;
    y = prev_y;
  }
  while (x > 0 && y > 0) {
    --x;
    --y;
    reversed.push_back({EditKind::kKeep, a_begin + static_cast<size_t>(x), b_begin + static_cast<size_t>(y)});
  }
  out->insert(out->end(), reversed.rbegin(), reversed.rend());
  return true;
}

// Puts deletions before insertions inside each run of changes, then sets
// the position index of every step (b_index of a deletion, a_index of an
// insertion) from the order.
void normalize_script(std::vector<LineEdit>* script) {
  auto is_change = [](const LineEdit& e) { return e.kind != EditKind::kKeep; };
  auto it = script->begin();
  while (it != script->end()) {
    if (!is_change(*it)) {
      ++it;
      continue;
    }
    auto run_end = std::find_if_not(it, script->end(), is_change);
    std::stable_partition(it, run_end, [](const LineEdit& e) { return e.kind == EditKind::kDelete; });
    it = run_end;
  }
  size_t ai = 0;
  size_t bi = 0;
  for (LineEdit& edit : *script) {
    edit.a_index = ai;
    edit.b_index = bi;
    if (edit.kind != EditKind::kInsert) ++ai;
    if (edit.kind != EditKind::kDelete) ++bi;
  }
}

}  // namespace

std::vector<LineEdit> diff_lines(const Lines& a, const Lines& b, size_t max_edit_distance) {
  std::vector<LineEdit> script;
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  for (size_t i = 0; i < prefix; ++i) script.push_back({EditKind::kKeep, i, i});

  size_t a_end = a.size() - suffix;
  size_t b_end = b.size() - suffix;
  if (!myers_middle(a, prefix, a_end, b, prefix, b_end, max_edit_distance, &script)) {
    for (size_t i = prefix; i < a_end; ++i) script.push_back({EditKind::kDelete, i, 0});
    for (size_t j = prefix; j < b_end; ++j) script.push_back({EditKind::kInsert, 0, j});
  }

  for (size_t i = 0; i < suffix; ++i) script.push_back({EditKind::kKeep, a_end + i, b_end + i});
  normalize_script(&script);
  return script;
}

namespace {

void append_line(std::string* out, char marker, std::string_view line) {
  out->push_back(marker);
  out->append(line);
  if (line.empty() || line.back() != '\n') out->append("\n\\ No newline at end of file\n");
}

// "-start,count" as GNU diff writes it: ",1" is left out, and an empty range
// names the line before it.
std::string hunk_range(size_t first_index, size_t count) {
  size_t start = count == 0 ? first_index : first_index + 1;
  std::string text = std::to_string(start);
  if (count != 1) text += "," + std::to_string(count);
  return text;
}

}  // namespace

std::string unified_diff(std::string_view a_text, std::string_view b_text, std::string_view a_label,
                         std::string_view b_label, size_t context) {
  Lines a = split_lines(a_text);
  Lines b = split_lines(b_text);
  std::vector<LineEdit> script = diff_lines(a, b);

  std::vector<size_t> changes;
  for (size_t i = 0; i < script.size(); ++i) {
    if (script[i].kind != EditKind::kKeep) changes.push_back(i);
  }
  if (changes.empty()) return "";

  std::string out;
  out.append("--- ").append(a_label).append("\n");
  out.append("+++ ").append(b_label).append("\n");

  size_t c = 0;
  while (c < changes.size()) {
    // Extend the hunk while the next change is within 2 * context steps.
    size_t last = c;
    while (last + 1 < changes.size() && changes[last + 1] - changes[last] <= 2 * context + 1) ++last;
    size_t begin = changes[c] >= context ? changes[c] - context : 0;
    size_t end = std::min(script.size(), changes[last] + context + 1);

    size_t a_count = 0;
    size_t b_count = 0;
    for (size_t i = begin; i < end; ++i) {
      if (script[i].kind != EditKind::kInsert) ++a_count;
      if (script[i].kind != EditKind::kDelete) ++b_count;
    }
    out.append("@@ -" + hunk_range(script[begin].a_index, a_count) + " +" +
               hunk_range(script[begin].b_index, b_count) + " @@\n");
    for (size_t i = begin; i < end; ++i) {
      const LineEdit& edit = script[i];
      if (edit.kind == EditKind::kKeep) append_line(&out, ' ', a[edit.a_index]);
      if (edit.kind == EditKind::kDelete) append_line(&out, '-', a[edit.a_index]);
      if (edit.kind == EditKind::kInsert) append_line(&out, '+', b[edit.b_index]);
    }
    c = last + 1;
  }
  return out;
}

}  // namespace automata::cli
