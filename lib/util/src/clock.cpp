// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/clock.h"

namespace parley {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

FakeClock::FakeClock(WallTime start)
    : wall_ns_(duration_cast<nanoseconds>(start.time_since_epoch()).count()) {}

WallTime FakeClock::now() const {
  return WallTime(duration_cast<WallTime::duration>(nanoseconds(wall_ns_.load())));
}

MonotonicTime FakeClock::monotonic_now() const {
  return MonotonicTime(duration_cast<MonotonicTime::duration>(nanoseconds(monotonic_ns_.load())));
}

void FakeClock::advance(nanoseconds step) {
  wall_ns_.fetch_add(step.count());
  monotonic_ns_.fetch_add(step.count());
}

void FakeClock::set_wall(WallTime time) {
  wall_ns_.store(duration_cast<nanoseconds>(time.time_since_epoch()).count());
}

std::int64_t unix_millis(WallTime time) {
  return duration_cast<milliseconds>(time.time_since_epoch()).count();
}

WallTime from_unix_millis(std::int64_t millis) {
  return WallTime(duration_cast<WallTime::duration>(milliseconds(millis)));
}

}  // namespace parley
