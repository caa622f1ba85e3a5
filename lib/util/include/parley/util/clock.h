// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Time comes in through this interface so protocol, storage and server logic can be tested with a
// FakeClock instead of sleeping. Wall time is for timestamps and retention; monotonic time is for
// timeouts and rates (it never jumps when the system clock is set).

#include <atomic>
#include <chrono>
#include <cstdint>

namespace parley {

using WallTime = std::chrono::system_clock::time_point;
using MonotonicTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
  virtual MonotonicTime monotonic_now() const = 0;
};

// The real clocks. Stateless; `SystemClock::instance()` is shared by everyone.
class SystemClock final : public Clock {
 public:
  static const SystemClock& instance();
  WallTime now() const override { return std::chrono::system_clock::now(); }
  MonotonicTime monotonic_now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to. Thread-safe; both times advance together.
class FakeClock final : public Clock {
 public:
  // 2026-01-01T00:00:00Z: a fixed, realistic default so tests are reproducible.
  static constexpr std::int64_t kDefaultStartUnixSeconds = 1767225600;

  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(kDefaultStartUnixSeconds)));

  WallTime now() const override;
  MonotonicTime monotonic_now() const override;

  void advance(std::chrono::nanoseconds step);
  // Sets wall time only (as an administrator setting the system clock would): monotonic is unmoved.
  void set_wall(WallTime time);

 private:
  std::atomic<std::int64_t> wall_ns_;
  std::atomic<std::int64_t> monotonic_ns_{0};
};

// Milliseconds since the Unix epoch, the unit used on the wire and in stores.
std::int64_t unix_millis(WallTime time);
WallTime from_unix_millis(std::int64_t millis);

}  // namespace parley
