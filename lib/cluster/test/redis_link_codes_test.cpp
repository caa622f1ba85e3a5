// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisLinkCodes against a real Redis Cluster: codes made through one client ("node") are
// redeemed through another, once; a new code replaces the old; expiry and account deletion; and
// what Redis hands back is checked, never trusted.
#include "parley/cluster/redis_link_codes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "cluster_fixtures.h"
#include "parley/crypto/random.h"
#include "parley/redis/keys.h"
#include "redis_cluster_process.h"

namespace parley::cluster {
namespace {

using redis::test::eventually;
using redis::test::RedisClusterProcess;
using std::chrono::milliseconds;

constexpr milliseconds kTtl = std::chrono::minutes(10);

store::AccountId random_account() {
  store::AccountId account{};
  Bytes random = crypto::random_bytes(account.size());
  std::copy(random.begin(), random.end(), account.begin());
  return account;
}

class RedisLinkCodesTest : public redis::test::TwoClientsTest {
 protected:
  void SetUp() override {
    TwoClientsTest::SetUp();
    if (HasFatalFailure()) return;
    a_ = std::make_unique<RedisLinkCodes>(*node_a_);
    b_ = std::make_unique<RedisLinkCodes>(*node_b_);
  }

  std::string create(RedisLinkCodes& codes, const store::AccountId& account,
                     milliseconds ttl = kTtl) {
    auto code = codes.create(account, ttl);
    EXPECT_TRUE(code.ok()) << code.status().to_string();
    return code.ok() ? *code : std::string();
  }

  std::optional<store::AccountId> take(RedisLinkCodes& codes, std::string_view code) {
    auto account = codes.take(code);
    EXPECT_TRUE(account.ok()) << account.status().to_string();
    return account.ok() ? *account : std::nullopt;
  }

  bool exists(const std::string& key) {
    auto reply = node_a_->command(key, {"EXISTS", key});
    return reply.ok() && reply->as_integer() == 1;
  }

  Status set_raw(const std::string& key, const std::string& value) {
    auto reply = node_a_->command(key, {"SET", key, value, "PX", "60000"});
    if (!reply.ok()) return reply.status();
    return reply->error_status("SET");
  }

  std::unique_ptr<RedisLinkCodes> a_;
  std::unique_ptr<RedisLinkCodes> b_;
};

TEST_F(RedisLinkCodesTest, CreatedOnOneNodeTakenOnAnotherOnce) {
  const store::AccountId account = random_account();
  const std::string code = create(*a_, account);
  EXPECT_TRUE(is_link_code(code)) << code;
  EXPECT_EQ(take(*b_, code), account);
  // Single use, on every node.
  EXPECT_EQ(take(*b_, code), std::nullopt);
  EXPECT_EQ(take(*a_, code), std::nullopt);
  EXPECT_FALSE(exists(redis::link_code_key(code)));

  EXPECT_EQ(a_->stats().created, 1u);
  EXPECT_EQ(b_->stats().taken, 1u);
  EXPECT_EQ(a_->stats().unknown + b_->stats().unknown, 2u);
  EXPECT_EQ(a_->stats().errors + b_->stats().errors, 0u);
}

TEST_F(RedisLinkCodesTest, ANewCodeReplacesTheOld) {
  const store::AccountId account = random_account();
  const store::AccountId other = random_account();
  const std::string first = create(*a_, account);
  const std::string others = create(*a_, other);
  const std::string second = create(*b_, account);
  EXPECT_NE(first, second);
  EXPECT_FALSE(exists(redis::link_code_key(first)));
  EXPECT_EQ(take(*a_, first), std::nullopt);
  EXPECT_EQ(take(*a_, second), account);
  // Another account's code is untouched.
  EXPECT_EQ(take(*b_, others), other);
}

TEST_F(RedisLinkCodesTest, TwoNodesRacingForOneCodeGetItOnce) {
  for (int round = 0; round < 20; ++round) {
    const store::AccountId account = random_account();
    const std::string code = create(*a_, account);
    std::atomic<int> winners{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        auto taken = (t % 2 == 0 ? *a_ : *b_).take(code);
        if (!taken.ok()) {
          ++errors;
        } else if (taken->has_value()) {
          ++winners;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(winners.load(), 1) << "round " << round;
  }
}

TEST_F(RedisLinkCodesTest, EraseAccountRemovesItsCode) {
  const store::AccountId account = random_account();
  const std::string code = create(*a_, account);
  ASSERT_TRUE(exists(redis::link_code_account_key(account)));
  ASSERT_TRUE(b_->erase_account(account).ok());
  EXPECT_FALSE(exists(redis::link_code_key(code)));
  EXPECT_FALSE(exists(redis::link_code_account_key(account)));
  EXPECT_EQ(take(*a_, code), std::nullopt);
  // Nothing left to erase: fine. A used code leaves nothing to erase either.
  EXPECT_TRUE(b_->erase_account(account).ok());
  const std::string used = create(*a_, account);
  ASSERT_EQ(take(*b_, used), account);
  EXPECT_TRUE(a_->erase_account(account).ok());
}

TEST_F(RedisLinkCodesTest, CodesExpire) {
  const store::AccountId account = random_account();
  const std::string code = create(*a_, account, milliseconds(300));
  const std::string code_key = redis::link_code_key(code);
  // Both keys carry the code's lifetime.
  for (const std::string& key : {code_key, redis::link_code_account_key(account)}) {
    auto ttl = node_a_->command(key, {"PTTL", key});
    ASSERT_TRUE(ttl.ok());
    EXPECT_GT(ttl->as_integer(), 0);
    EXPECT_LE(ttl->as_integer(), 300);
  }
  ASSERT_TRUE(eventually([&] { return !exists(code_key); }, std::chrono::seconds(10)));
  EXPECT_EQ(take(*b_, code), std::nullopt);
  EXPECT_EQ(a_->create(account, milliseconds(0)).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(RedisLinkCodesTest, MalformedCodesAreUnknown) {
  const std::string valid = server::make_link_code();
  std::string upper = valid;
  upper[0] = 'A';
  std::string look_alike = valid;
  look_alike[3] = 'l';
  const std::string with_nul("abcdefghijkmnpq\0", 16);
  for (const std::string& code :
       {std::string(), std::string("abc"), valid + "a", valid.substr(1), upper, look_alike,
        with_nul, std::string("lc:x"), std::string(16, '*')}) {
    EXPECT_EQ(take(*a_, code), std::nullopt);
  }
  EXPECT_EQ(a_->stats().unknown, 9u);
  EXPECT_EQ(a_->stats().errors, 0u);
}

TEST_F(RedisLinkCodesTest, MalformedValuesInRedisAreErrors) {
  const store::AccountId account = random_account();
  // A code whose account is not 32 hex digits.
  for (const std::string& value :
       {std::string("not hex"), std::string(32, 'z'), std::string(30, 'a'), std::string(34, 'a')}) {
    const std::string code = server::make_link_code();
    ASSERT_TRUE(set_raw(redis::link_code_key(code), value).ok());
    EXPECT_EQ(a_->take(code).status().code(), ErrorCode::kMalformedInput);
    EXPECT_FALSE(exists(redis::link_code_key(code)));  // gone all the same: single use
  }
  // An account pointing at something that is not a code: nothing is deleted by its name.
  const std::string account_key = redis::link_code_account_key(account);
  ASSERT_TRUE(set_raw(account_key, "lca:{x}").ok());
  EXPECT_EQ(a_->erase_account(account).code(), ErrorCode::kMalformedInput);
  ASSERT_TRUE(set_raw(account_key, "*").ok());
  EXPECT_EQ(a_->create(account, kTtl).status().code(), ErrorCode::kMalformedInput);
  // The bad value was replaced: the next code works and replaces the previous one.
  const std::string first = create(*a_, account);
  const std::string second = create(*b_, account);
  EXPECT_EQ(take(*a_, first), std::nullopt);
  EXPECT_EQ(take(*a_, second), account);
  EXPECT_EQ(a_->stats().errors, 6u);
}

TEST(RedisLinkCodesDown, UnreachableRedisIsAnError) {
  auto started = RedisClusterProcess::start({.masters = 3});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  RedisClusterProcess& cluster = **started;
  redis::ClusterOptions options;
  options.connect_timeout = milliseconds(200);
  options.command_timeout = milliseconds(200);
  options.max_retries = 1;
  options.retry_backoff = milliseconds(10);
  auto connected = redis::RedisCluster::connect(cluster.seeds(), options);
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  RedisLinkCodes codes(**connected);
  const store::AccountId account = random_account();
  auto code = codes.create(account, kTtl);
  ASSERT_TRUE(code.ok()) << code.status().to_string();

  for (int i = 0; i < static_cast<int>(cluster.nodes().size()); ++i) cluster.kill_node(i);
  auto is_outage = [](const Status& status) {
    return status.code() == ErrorCode::kUnavailable || status.code() == ErrorCode::kTimeout;
  };
  EXPECT_TRUE(is_outage(codes.take(*code).status()));
  EXPECT_TRUE(is_outage(codes.create(account, kTtl).status()));
  EXPECT_TRUE(is_outage(codes.erase_account(account)));
  EXPECT_EQ(codes.stats().errors, 3u);
  // A malformed code is unknown without asking Redis.
  auto malformed = codes.take("not a code");
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(*malformed, std::nullopt);
}

}  // namespace
}  // namespace parley::cluster
