// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace parley::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffTest, DoublesWithinJitterUpToTheCap) {
  Backoff backoff(seconds(1), seconds(60), 42);
  milliseconds ceiling = seconds(1);
  for (int i = 0; i < 12; ++i) {
    milliseconds delay = backoff.next();
    EXPECT_GE(delay, ceiling / 2) << i;
    EXPECT_LE(delay, ceiling) << i;
    ceiling = std::min<milliseconds>(ceiling * 2, seconds(60));
  }
  EXPECT_EQ(backoff.ceiling(), seconds(60));
  EXPECT_GE(backoff.next(), seconds(30));  // capped: never above 60 s, never below half of it
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(seconds(1), seconds(60), 7);
  for (int i = 0; i < 5; ++i) (void)backoff.next();
  EXPECT_GT(backoff.ceiling(), seconds(1));
  backoff.reset();
  EXPECT_LE(backoff.next(), seconds(1));
}

TEST(BackoffTest, Jitters) {
  std::set<milliseconds::rep> first_delays;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    first_delays.insert(Backoff(seconds(8), seconds(60), seed).next().count());
  }
  EXPECT_GT(first_delays.size(), 10u);  // 20 seeds over 4001 values: nearly all distinct
}

}  // namespace
}  // namespace parley::net
