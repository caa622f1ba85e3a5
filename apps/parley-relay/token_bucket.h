// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The per-connection bandwidth limit: a token bucket holding at most one second of traffic.
// take() may drive the level below zero (a whole read is forwarded at once); the returned wait
// is how long the caller sleeps before forwarding, so the long-run rate never exceeds `rate`.
// Pure logic with the time passed in, so tests need no sockets and no sleeps.

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace parley::relay {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // rate_bytes_per_second = 0: unlimited (take() never waits).
  TokenBucket(std::uint64_t rate_bytes_per_second, Clock::time_point now)
      : rate_(rate_bytes_per_second), level_(static_cast<double>(rate_)), last_(now) {}

  std::chrono::nanoseconds take(std::uint64_t bytes, Clock::time_point now) {
    if (rate_ == 0) return std::chrono::nanoseconds(0);
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = std::max(last_, now);
    level_ = std::min(static_cast<double>(rate_),
                      level_ + std::max(0.0, elapsed) * static_cast<double>(rate_));
    level_ -= static_cast<double>(bytes);
    if (level_ >= 0) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(
        static_cast<std::int64_t>(-level_ / static_cast<double>(rate_) * 1e9));
  }

  std::uint64_t rate() const { return rate_; }

 private:
  std::uint64_t rate_;
  double level_;
  Clock::time_point last_;
};

}  // namespace parley::relay
