// A token bucket on received bytes. Not thread-safe: one per connection, used
// on the network thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace automata::p2p {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full. Rate and burst of 0 are raised to 1.
  TokenBucket(uint64_t rate_per_sec, uint64_t burst, Clock::time_point now)
      : rate_(std::max<uint64_t>(rate_per_sec, 1)),
        capacity_(static_cast<int64_t>(std::max<uint64_t>(burst, 1)) * kScale),
        level_(capacity_),
        last_(now) {}

  // Takes `bytes` tokens, going into debt if needed, and returns how long the
  // reader must wait until the debt is repaid (zero when there is none).
  std::chrono::microseconds consume(uint64_t bytes, Clock::time_point now) {
    refill(now);
    level_ -= static_cast<int64_t>(bytes) * kScale;
    if (level_ >= 0) return std::chrono::microseconds(0);
    const uint64_t debt = static_cast<uint64_t>(-level_);
    return std::chrono::microseconds(debt / rate_ + 1);
  }

 private:
  // The level counts byte-microseconds, so a refill of elapsed_us * rate
  // loses no fraction of a byte.
  static constexpr int64_t kScale = 1'000'000;

  void refill(Clock::time_point now) {
    const int64_t elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(now - last_).count();
    if (elapsed_us <= 0) return;
    last_ = now;
    level_ = std::min(level_ + elapsed_us * static_cast<int64_t>(rate_), capacity_);
  }

  uint64_t rate_;
  int64_t capacity_;
  int64_t level_;
  Clock::time_point last_;
};

}  // namespace automata::p2p
