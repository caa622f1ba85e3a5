// SPDX-License-Identifier: AGPL-3.0-or-later
// The token bucket table behind the abuse limits, and the per-IP key.
#include "parley/server/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace parley::server {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, RefusesAfterTheBurstAndAllowsAgainAfterRefill) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{3, 60s}, 100, clock);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.acquire("a").allowed) << i;
  RateLimiter::Decision refused = limiter.acquire("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 20s);  // one token per 20 s
  clock.advance(19s);
  EXPECT_FALSE(limiter.acquire("a").allowed);
  clock.advance(1s);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
  clock.advance(10min);  // refills to the burst, never beyond
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.acquire("a").allowed) << i;
  EXPECT_FALSE(limiter.acquire("a").allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{1, 60s}, 100, clock);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
  EXPECT_TRUE(limiter.acquire("b").allowed);
}

TEST(RateLimiter, ZeroDisables) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{0, 60s}, 100, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.acquire("a").allowed);
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(RateLimiter, CostsAreTakenInBytesAndAnOversizeCostNeedsAFullBucket) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{1000, 100s}, 100, clock);  // 10 per second
  EXPECT_TRUE(limiter.acquire("a", 600).allowed);
  RateLimiter::Decision refused = limiter.acquire("a", 500);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 10s);  // 100 more tokens at 10/s
  EXPECT_TRUE(limiter.acquire("a", 400).allowed);
  clock.advance(100s);
  EXPECT_TRUE(limiter.acquire("a", 3000).allowed);  // full bucket: allowed, 2000 owed
  RateLimiter::Decision owed = limiter.acquire("a", 1);
  EXPECT_FALSE(owed.allowed);
  EXPECT_EQ(owed.retry_after, 201s);
}

TEST(RateLimiter, TableStaysBoundedUnderManyKeys) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{5, 60s}, 50, clock);
  EXPECT_TRUE(limiter.acquire("victim").allowed);
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(limiter.acquire("spray-" + std::to_string(i)).allowed);
    ASSERT_LE(limiter.size(), 50u);
  }
  EXPECT_EQ(limiter.size(), 50u);
  EXPECT_GT(limiter.evictions(), 0u);
}

TEST(RateLimiter, RecentlyUsedKeysSurviveAndRefilledOnesAreDroppedFirst) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{2, 60s}, 3, clock);
  ASSERT_TRUE(limiter.acquire("busy").allowed);
  ASSERT_TRUE(limiter.acquire("busy").allowed);
  ASSERT_TRUE(limiter.acquire("x").allowed);
  ASSERT_TRUE(limiter.acquire("y").allowed);
  // Touching "busy" makes it the most recent: the new key pushes out "x", not it.
  EXPECT_FALSE(limiter.acquire("busy").allowed);
  ASSERT_TRUE(limiter.acquire("z").allowed);
  EXPECT_FALSE(limiter.acquire("busy").allowed);
  // After a full refill every bucket equals no bucket: the table empties as it is used.
  clock.advance(1h);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.acquire("busy").allowed || i >= 2);
  EXPECT_LE(limiter.size(), 2u);
  EXPECT_EQ(limiter.evictions(), 1u);
}

TEST(RateLimiter, DescribesItsRate) {
  EXPECT_EQ(describe_rate(RateLimit{600, 60s}), "600 per minute");
  EXPECT_EQ(describe_rate(RateLimit{30, 1h}), "30 per hour");
  EXPECT_EQ(describe_rate(RateLimit{7, 90s}), "7 per 90 seconds");
}

TEST(ConcurrencyCounter, CountsUpToTheMaximumAndForgetsClosedKeys) {
  ConcurrencyCounter counter;
  EXPECT_TRUE(counter.try_add("a", 2));
  EXPECT_TRUE(counter.try_add("a", 2));
  EXPECT_FALSE(counter.try_add("a", 2));
  EXPECT_TRUE(counter.try_add("b", 2));
  counter.release("a");
  EXPECT_TRUE(counter.try_add("a", 2));
  counter.release("a");
  counter.release("a");
  counter.release("b");
  EXPECT_EQ(counter.size(), 0u);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(counter.try_add("c", 0));  // 0: no limit
}

TEST(IpLimitKey, GroupsIpv6ByPrefixAndMapsIpv4) {
  EXPECT_EQ(ip_limit_key(""), "");
  EXPECT_EQ(ip_limit_key("not an address"), "");
  EXPECT_NE(ip_limit_key("203.0.113.7"), "");
  EXPECT_NE(ip_limit_key("203.0.113.7"), ip_limit_key("203.0.113.8"));
  EXPECT_EQ(ip_limit_key("::ffff:203.0.113.7"), ip_limit_key("203.0.113.7"));
  EXPECT_EQ(ip_limit_key("2001:db8:1:2::1"), ip_limit_key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(ip_limit_key("2001:db8:1:2::1"), ip_limit_key("[2001:db8:1:2::9]"));
  EXPECT_EQ(ip_limit_key("fe80::1%eth0"), ip_limit_key("fe80::2"));
  EXPECT_NE(ip_limit_key("2001:db8:1:2::1"), ip_limit_key("2001:db8:1:3::1"));
}

}  // namespace
}  // namespace parley::server
