// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisRateLimits against a real Redis Cluster: two objects over two clients stand for two parleyd
// nodes sharing one bucket. The decisions are checked against the per-node RateLimiter, whose
// rules the shared buckets must follow exactly.
#include "parley/cluster/redis_rate_limits.h"

#include <gtest/gtest.h>

#include <random>

#include "cluster_fixtures.h"
#include "parley/redis/keys.h"
#include "parley/util/clock.h"
#include "redis_cluster_process.h"

namespace parley::cluster {
namespace {

using redis::test::eventually;
using redis::test::RedisClusterProcess;
using server::RateLimit;
using std::chrono::seconds;

constexpr RateLimit kPerHour(std::uint64_t count) {
  return RateLimit{count, std::chrono::hours(1)};
}

// A binary key no earlier run used (buckets outlive a test until they refill), with braces in
// it: the bucket's name hexes it, so they cannot move the hash tag.
std::string fresh_key() {
  static std::mt19937_64 random{std::random_device{}()};
  std::string key = "{\0}";
  key.resize(3);
  for (int i = 0; i < 16; ++i) key.push_back(static_cast<char>(random() & 0xff));
  return key;
}

class RedisRateLimitsTest : public redis::test::TwoClientsTest {
 protected:
  void SetUp() override {
    TwoClientsTest::SetUp();
    if (HasFatalFailure()) return;
    a_ = std::make_unique<RedisRateLimits>(*node_a_);
    b_ = std::make_unique<RedisRateLimits>(*node_b_);
  }

  // The decision, asserted to be one (not an error).
  static server::RateLimiter::Decision decide(RedisRateLimits& limits, std::string_view name,
                                              const RateLimit& limit, const std::string& key,
                                              std::uint64_t cost = 1) {
    auto decision = limits.acquire(name, limit, key, cost);
    EXPECT_TRUE(decision.ok()) << decision.status().to_string();
    return decision.ok() ? *decision : server::RateLimiter::Decision{false, seconds(0)};
  }

  std::unique_ptr<RedisRateLimits> a_;
  std::unique_ptr<RedisRateLimits> b_;
};

TEST_F(RedisRateLimitsTest, TwoNodesShareOneBucketExactly) {
  const RateLimit limit = kPerHour(7);
  const std::string key = fresh_key();
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(decide(i % 2 == 0 ? *a_ : *b_, "sends_per_account", limit, key).allowed) << i;
  }
  // The eighth is refused on either node; one token comes back in 3600 / 7 s ≈ 515 s.
  for (RedisRateLimits* node : {a_.get(), b_.get()}) {
    auto refused = decide(*node, "sends_per_account", limit, key);
    EXPECT_FALSE(refused.allowed);
    EXPECT_GE(refused.retry_after, seconds(500));
    EXPECT_LE(refused.retry_after, seconds(515));
  }
  EXPECT_EQ(a_->stats().taken + b_->stats().taken, 7u);
  EXPECT_EQ(a_->stats().refused, 1u);
  EXPECT_EQ(b_->stats().refused, 1u);
  EXPECT_EQ(a_->stats().errors + b_->stats().errors, 0u);

  // The bucket is where the key naming says, hex and all.
  const std::string bucket = redis::rate_limit_key(as_bytes(key), "sends_per_account");
  auto exists = node_a_->command(bucket, {"EXISTS", bucket});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->as_integer(), 1);
}

TEST_F(RedisRateLimitsTest, NamesAndKeysAreSeparateBuckets) {
  const RateLimit limit = kPerHour(1);
  const std::string key = fresh_key();
  const std::string other = fresh_key();
  EXPECT_TRUE(decide(*a_, "sends_per_account", limit, key).allowed);
  EXPECT_FALSE(decide(*b_, "sends_per_account", limit, key).allowed);
  EXPECT_TRUE(decide(*b_, "attachments_per_account", limit, key).allowed);
  EXPECT_TRUE(decide(*b_, "sends_per_account", limit, other).allowed);
  EXPECT_FALSE(decide(*a_, "attachments_per_account", limit, key).allowed);
  // A disabled limit allows everything.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(decide(*a_, "sends_per_account", RateLimit{0, seconds(60)}, key).allowed);
  }
}

// The same requests against RateLimiter (a FakeClock that does not move) and the shared buckets:
// the same answers. Only milliseconds pass between the Redis calls, so a wait may come out up to
// a second shorter, never longer.
TEST_F(RedisRateLimitsTest, DecisionsMatchThePerNodeRateLimiter) {
  const RateLimit limit{10, std::chrono::minutes(1)};
  FakeClock clock;
  server::RateLimiter local(limit, 100, clock);
  const std::string key = fresh_key();
  // 25 from a full bucket of 10 (allowed, owes 15), then 1 (16 tokens away: 96 s), 25 again
  // (needs a full bucket: 150 s), a zero cost (owing: 90 s), and on another key a cost of exactly
  // the burst, then one more (6 s).
  const std::string other = fresh_key();
  struct Step {
    const std::string* key;
    std::uint64_t cost;
  };
  const Step steps[] = {{&key, 25},   {&key, 1},   {&key, 25},  {&key, 0},
                        {&other, 10}, {&other, 1}, {&other, 11}};
  int i = 0;
  for (const Step& step : steps) {
    auto expected = local.acquire(*step.key, step.cost);
    auto shared =
        decide(i % 2 == 0 ? *a_ : *b_, "attachment_bytes_per_account", limit, *step.key, step.cost);
    EXPECT_EQ(shared.allowed, expected.allowed) << "step " << i;
    EXPECT_LE(shared.retry_after, expected.retry_after) << "step " << i;
    EXPECT_GE(shared.retry_after, expected.retry_after - seconds(1)) << "step " << i;
    if (!expected.allowed) {
      EXPECT_GE(shared.retry_after, seconds(1)) << "step " << i;
    }
    ++i;
  }
}

TEST_F(RedisRateLimitsTest, RefillsOverTime) {
  // 2 per second: an emptied bucket has a token again within about half a second.
  const RateLimit limit{2, seconds(1)};
  const std::string key = fresh_key();
  EXPECT_TRUE(decide(*a_, "prekey_fetches_per_account", limit, key).allowed);
  EXPECT_TRUE(decide(*b_, "prekey_fetches_per_account", limit, key).allowed);
  auto refused = decide(*a_, "prekey_fetches_per_account", limit, key);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, seconds(1));  // half a second, rounded up to the floor of 1 s
  EXPECT_TRUE(eventually(
      [&] {
        auto decision = b_->acquire("prekey_fetches_per_account", limit, key, 1);
        return decision.ok() && decision->allowed;
      },
      std::chrono::seconds(10)));
}

TEST(RedisRateLimitsDown, UnreachableRedisIsAnError) {
  auto started = RedisClusterProcess::start({.masters = 3});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  RedisClusterProcess& cluster = **started;
  // Few retries: an outage is answered in well under a second, so the core's fallback is quick.
  redis::ClusterOptions options;
  options.connect_timeout = std::chrono::milliseconds(200);
  options.command_timeout = std::chrono::milliseconds(200);
  options.max_retries = 1;
  options.retry_backoff = std::chrono::milliseconds(10);
  auto connected = redis::RedisCluster::connect(cluster.seeds(), options);
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  RedisRateLimits limits(**connected);
  const std::string key = fresh_key();
  ASSERT_TRUE(limits.acquire("sends_per_account", kPerHour(5), key, 1).ok());

  for (int i = 0; i < static_cast<int>(cluster.nodes().size()); ++i) cluster.kill_node(i);
  auto down = limits.acquire("sends_per_account", kPerHour(5), key, 1);
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.status().code() == ErrorCode::kUnavailable ||
              down.status().code() == ErrorCode::kTimeout)
      << down.status().to_string();
  EXPECT_EQ(limits.stats().errors, 1u);
  EXPECT_EQ(limits.stats().taken, 1u);
  // A disabled limit needs no Redis.
  auto disabled = limits.acquire("sends_per_account", RateLimit{0, seconds(60)}, key, 1);
  ASSERT_TRUE(disabled.ok());
  EXPECT_TRUE(disabled->allowed);
}

}  // namespace
}  // namespace parley::cluster
