// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisTokenBucket against a real cluster, shared by two clients standing for two parleyd nodes.
#include "parley/redis/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "cluster_fixtures.h"
#include "redis_cluster_process.h"

namespace parley::redis {
namespace {

class RateLimitTest : public test::TwoClientsTest {
 protected:
  // A bucket name no earlier run used (buckets outlive a test until they expire).
  static std::string fresh_key(std::string_view name) {
    static std::mt19937_64 random{std::random_device{}()};
    return "rl:{" + std::string(name) + "." + std::to_string(random()) + "}";
  }
};

// Refill so slow (one token per 1000 s) that none comes back during the test.
constexpr double kNoRefill = 0.001;

TEST_F(RateLimitTest, CapacityTakesThenRefusedAcrossNodes) {
  RedisTokenBucket on_a(*node_a_, 5, kNoRefill);
  RedisTokenBucket on_b(*node_b_, 5, kNoRefill);
  std::string key = fresh_key("send");
  for (int i = 0; i < 5; ++i) {
    auto taken = (i % 2 == 0 ? on_a : on_b).take(key);
    ASSERT_TRUE(taken.ok()) << taken.status().to_string();
    EXPECT_TRUE(*taken) << i;
  }
  EXPECT_FALSE(on_a.take(key).value());
  EXPECT_FALSE(on_b.take(key).value());
  // Another bucket is independent.
  EXPECT_TRUE(on_b.take(fresh_key("other")).value());
}

TEST_F(RateLimitTest, CostIsTakenWholeOrNotAtAll) {
  RedisTokenBucket bucket(*node_a_, 5, kNoRefill);
  std::string key = fresh_key("cost");
  EXPECT_TRUE(bucket.take(key, 2).value());
  EXPECT_TRUE(bucket.take(key, 2).value());
  EXPECT_FALSE(bucket.take(key, 2).value());  // 1 left: refused, nothing taken
  EXPECT_TRUE(bucket.take(key, 1).value());
  EXPECT_FALSE(bucket.take(key, 1).value());
  EXPECT_TRUE(bucket.take(key, 0).value());  // nothing owed: a zero cost passes
  EXPECT_EQ(bucket.take(key, -1).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bucket.take(key, std::nan("")).status().code(), ErrorCode::kInvalidArgument);
  RedisTokenBucket broken(*node_a_, 0, kNoRefill);
  EXPECT_EQ(broken.take(key).status().code(), ErrorCode::kInvalidArgument);
}

// Reads the bucket's stored tokens (a decimal number) straight from its hash.
double stored_tokens(RedisCluster& cluster, const std::string& key) {
  auto reply = cluster.command(key, {"HGET", key, "tokens"});
  EXPECT_TRUE(reply.ok() && reply->is_string());
  return reply.ok() ? std::stod(reply->text()) : 0;
}

TEST_F(RateLimitTest, RefusalSaysHowLongUntilTheCostFits) {
  // One token per 1000 s: the waits are large and barely move while the test runs.
  RedisTokenBucket bucket(*node_a_, 5, kNoRefill);
  std::string key = fresh_key("wait");
  auto first = bucket.acquire(key, 3);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_TRUE(first->allowed);
  EXPECT_EQ(first->retry_after.count(), 0);

  // 2 left: 3 more need one token, i.e. 1000 s (less what trickled in since).
  auto refused = bucket.acquire(key, 3);
  ASSERT_TRUE(refused.ok()) << refused.status().to_string();
  EXPECT_FALSE(refused->allowed);
  EXPECT_GT(refused->retry_after.count(), 990'000);
  EXPECT_LE(refused->retry_after.count(), 1'000'000);
  // Nothing was taken by the refusal.
  EXPECT_NEAR(stored_tokens(*node_a_, key), 2, 0.01);
  EXPECT_TRUE(bucket.take(key, 2).value());
}

TEST_F(RateLimitTest, CountPerPeriodWaitsAreExact) {
  // 10 per minute, as the server's RateLimit says it: one token every 6 s.
  RedisTokenBucket bucket(*node_a_, 10, std::chrono::minutes(1));
  std::string key = fresh_key("period");
  ASSERT_TRUE(bucket.take(key, 10).value());
  auto refused = bucket.acquire(key, 1);
  ASSERT_TRUE(refused.ok()) << refused.status().to_string();
  EXPECT_FALSE(refused->allowed);
  EXPECT_GT(refused->retry_after.count(), 5'900);
  EXPECT_LE(refused->retry_after.count(), 6'000);
  RedisTokenBucket no_period(*node_a_, 10, std::chrono::milliseconds(0));
  EXPECT_EQ(no_period.acquire(key).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(RateLimitTest, OversizeCostNeedsAFullBucketWhichThenOwes) {
  RedisTokenBucket on_a(*node_a_, 5, kNoRefill);
  RedisTokenBucket on_b(*node_b_, 5, kNoRefill);
  std::string key = fresh_key("oversize");
  // From a full bucket, 8 of a capacity of 5 pass, and the bucket owes 3.
  auto taken = on_a.acquire(key, 8);
  ASSERT_TRUE(taken.ok()) << taken.status().to_string();
  EXPECT_TRUE(taken->allowed);
  EXPECT_NEAR(stored_tokens(*node_a_, key), -3, 0.01);

  // The debt blocks even a zero cost; one token is 4 refills away, a full bucket 8.
  auto one = on_b.acquire(key, 1);
  ASSERT_TRUE(one.ok()) << one.status().to_string();
  EXPECT_FALSE(one->allowed);
  EXPECT_GT(one->retry_after.count(), 3'990'000);
  EXPECT_LE(one->retry_after.count(), 4'000'000);
  EXPECT_FALSE(on_b.take(key, 0).value());
  auto again = on_b.acquire(key, 8);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_FALSE(again->allowed);
  EXPECT_GT(again->retry_after.count(), 7'990'000);
  EXPECT_LE(again->retry_after.count(), 8'000'000);

  // The key lives until the bucket would be full again (8000 s), not only until it is positive.
  auto ttl = node_a_->command(key, {"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->as_integer(), 7'990'000);

  // A bucket that is not full refuses an oversize cost, waiting until it is full.
  std::string partial = fresh_key("partial");
  ASSERT_TRUE(on_a.take(partial, 1).value());
  auto refused = on_b.acquire(partial, 6);
  ASSERT_TRUE(refused.ok()) << refused.status().to_string();
  EXPECT_FALSE(refused->allowed);
  EXPECT_GT(refused->retry_after.count(), 990'000);
  EXPECT_LE(refused->retry_after.count(), 1'000'000);
  EXPECT_NEAR(stored_tokens(*node_a_, partial), 4, 0.01);
}

TEST_F(RateLimitTest, ConcurrentTakesFromTwoNodesNeverExceedCapacity) {
  RedisTokenBucket on_a(*node_a_, 100, kNoRefill);
  RedisTokenBucket on_b(*node_b_, 100, kNoRefill);
  std::string key = fresh_key("race");
  std::atomic<int> taken{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RedisTokenBucket& bucket = t % 2 == 0 ? on_a : on_b;
      for (int i = 0; i < 50; ++i) {
        auto result = bucket.take(key);
        if (!result.ok()) {
          ++errors;
        } else if (*result) {
          ++taken;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(taken.load(), 100);
}

TEST_F(RateLimitTest, RefillsOverTimeAndIdleBucketsExpire) {
  // 4 tokens per second: an empty bucket gives one again within about 250 ms.
  RedisTokenBucket on_a(*node_a_, 2, 4);
  RedisTokenBucket on_b(*node_b_, 2, 4);
  std::string key = fresh_key("refill");
  ASSERT_TRUE(on_a.take(key, 2).value());
  // The bucket has an expiry no later than "full again" plus a second.
  auto ttl = node_a_->command(key, {"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->as_integer(), 0);
  EXPECT_LE(ttl->as_integer(), 1500);
  // Tokens come back: the other node sees them.
  EXPECT_TRUE(
      test::eventually([&] { return on_b.take(key).value_or(false); }, std::chrono::seconds(10)));
  // Left alone, the bucket key vanishes (a missing bucket is a full one).
  EXPECT_TRUE(test::eventually(
      [&] {
        auto exists = node_a_->command(key, {"EXISTS", key});
        return exists.ok() && exists->as_integer() == 0;
      },
      std::chrono::seconds(10)));
  EXPECT_TRUE(on_a.take(key, 2).value());
}

}  // namespace
}  // namespace parley::redis
