// A one-line progress bar on a terminal for long uploads and downloads.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>

namespace automata::cli {

// Formats "label [#####.....] 12.5/40.0 MB 31% 3.2 MB/s" for done of
// total bytes after elapsed. MB is 10^6 bytes. With total 0 the bar is
// full. The rate is left out while elapsed is under one millisecond.
// Integer math only, so the output is the same on every platform.
std::string format_progress(const std::string& label, uint64_t done, uint64_t total,
                            std::chrono::milliseconds elapsed, size_t bar_width = 30);

// True when file descriptor 2 (stderr) is a terminal.
bool stderr_is_terminal();

// Redraws one line on out (with a carriage return) as bytes are added, at
// most every 100 ms, and ends the line on finish(). Disabled, it prints
// nothing. Safe to call from several threads.
class ProgressBar {
 public:
  ProgressBar(std::ostream* out, bool enabled, std::string label, uint64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void add(uint64_t bytes);
  // Draws the final state and ends the line. Called again, does nothing.
  void finish();

  uint64_t done() const;

 private:
  void draw_locked(bool force);

  std::ostream* out_;
  const bool enabled_;
  const std::string label_;
  const uint64_t total_;
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  // Guarded by mutex_: the byte count, the time of the last redraw and
  // whether finish() ran.
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
  bool finished_ = false;
};

}  // namespace automata::cli
