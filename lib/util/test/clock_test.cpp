// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/clock.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace parley {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, StartsAtAFixedDate) {
  FakeClock clock;
  EXPECT_EQ(unix_millis(clock.now()), FakeClock::kDefaultStartUnixSeconds * 1000);
}

TEST(FakeClock, AdvanceMovesBothClocks) {
  FakeClock clock;
  WallTime wall = clock.now();
  MonotonicTime mono = clock.monotonic_now();
  clock.advance(1500ms);
  EXPECT_EQ(clock.now() - wall, 1500ms);
  EXPECT_EQ(clock.monotonic_now() - mono, 1500ms);
}

TEST(FakeClock, SetWallLeavesMonotonicAlone) {
  FakeClock clock;
  MonotonicTime mono = clock.monotonic_now();
  clock.set_wall(from_unix_millis(0));
  EXPECT_EQ(unix_millis(clock.now()), 0);
  EXPECT_EQ(clock.monotonic_now(), mono);
}

TEST(FakeClock, ConcurrentAdvancesAreNotLost) {
  FakeClock clock;
  MonotonicTime start = clock.monotonic_now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.advance(1ms);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.monotonic_now() - start, 4000ms);
}

TEST(SystemClock, IsCloseToTheRealClock) {
  const Clock& clock = SystemClock::instance();
  auto delta = clock.now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(delta), 5s);
  MonotonicTime a = clock.monotonic_now();
  EXPECT_LE(a, clock.monotonic_now());
}

TEST(UnixMillis, RoundTrips) {
  EXPECT_EQ(unix_millis(from_unix_millis(1'767'225'600'123)), 1'767'225'600'123);
  EXPECT_EQ(unix_millis(from_unix_millis(-5)), -5);
}

}  // namespace
}  // namespace parley
