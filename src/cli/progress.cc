#include "automata/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace automata::cli {

namespace {

constexpr std::chrono::milliseconds kRedrawInterval{100};
constexpr uint64_t kBytesPerMegabyte = 1'000'000;

// value / 10^6 with one decimal, rounded down: "12.5".
std::string megabytes(uint64_t bytes) {
  uint64_t tenths = bytes / (kBytesPerMegabyte / 10);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

}  // namespace

std::string format_progress(const std::string& label, uint64_t done, uint64_t total,
                            std::chrono::milliseconds elapsed, size_t bar_width) {
  // Progress in thousandths, so the bar and the percentage come from one
  // integer. done may pass total when a caller over-counts, so clamp it.
  uint64_t permille = 1000;
  if (total > 0) permille = std::min<uint64_t>(1000, (std::min(done, total) * 1000) / total);
  size_t filled = static_cast<size_t>((permille * bar_width) / 1000);

  std::string line = label;
  line += " [";
  line.append(filled, '#');
  line.append(bar_width - filled, '.');
  line += "] ";
  line += megabytes(done) + "/" + megabytes(total) + " MB ";
  line += std::to_string(permille / 10) + "%";
  if (elapsed.count() > 0) {
    uint64_t bytes_per_second = done * 1000 / static_cast<uint64_t>(elapsed.count());
    line += " " + megabytes(bytes_per_second) + " MB/s";
  }
  return line;
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::ostream* out, bool enabled, std::string label, uint64_t total)
    : out_(out),
      enabled_(enabled && out != nullptr),
      label_(std::move(label)),
      total_(total),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::add(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += bytes;
  draw_locked(/*force=*/false);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw_locked(/*force=*/true);
  if (enabled_) *out_ << "\n" << std::flush;
}

uint64_t ProgressBar::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

void ProgressBar::draw_locked(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
  // "\33[K" clears the rest of the line when the new text is shorter.
  *out_ << "\r" << format_progress(label_, done_, total_, elapsed) << "\33[K" << std::flush;
}

}  // namespace automata::cli
