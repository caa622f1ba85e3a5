// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisTokenBucket against a real cluster, shared by two clients standing for two parleyd nodes.
#include "parley/redis/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "redis_cluster_process.h"

namespace parley::redis {
namespace {

class RateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = test::shared_cluster(&error);
    ASSERT_NE(cluster_, nullptr) << error;
    for (auto* client : {&node_a_, &node_b_}) {
      auto connected = RedisCluster::connect(cluster_->seeds());
      ASSERT_TRUE(connected.ok()) << connected.status().to_string();
      *client = std::move(connected).value();
    }
  }

  // A bucket name no earlier run used (buckets outlive a test until they expire).
  static std::string fresh_key(std::string_view name) {
    static std::mt19937_64 random{std::random_device{}()};
    return "rl:{" + std::string(name) + "." + std::to_string(random()) + "}";
  }

  test::RedisClusterProcess* cluster_ = nullptr;
  std::unique_ptr<RedisCluster> node_a_;
  std::unique_ptr<RedisCluster> node_b_;
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
  EXPECT_FALSE(bucket.take(fresh_key("big"), 6).value());  // more than the capacity
  EXPECT_EQ(bucket.take(key, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bucket.take(key, -1).status().code(), ErrorCode::kInvalidArgument);
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
