// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisCluster against a real 3-master cluster: routing, the server's own slot numbers, Lua, a
// slot migrated mid-test (ASK, then MOVED) and concurrent callers.
#include "parley/redis/cluster_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "cluster_fixtures.h"
#include "parley/redis/crc16.h"
#include "redis_cluster_process.h"

namespace parley::redis {
namespace {

using test::RedisClusterProcess;
using test::SlotMigration;

class ClusterClientTest : public test::OneClientTest {
 protected:
  int port_of(const NodeAddress& node) { return node.port; }
};

TEST_F(ClusterClientTest, SetAndGetThousandKeysOverAllMasters) {
  std::set<int> masters;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "spread:" + std::to_string(i);
    auto reply = client_->command(key, {"SET", key, "value-" + std::to_string(i)});
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    ASSERT_TRUE(reply->is_status()) << reply->text();
    masters.insert(client_->master_for_slot(key_slot(key))->port);
  }
  EXPECT_EQ(masters.size(), 3u);
  for (int i = 0; i < 1000; ++i) {
    std::string key = "spread:" + std::to_string(i);
    auto reply = client_->command(key, {"GET", key});
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    EXPECT_EQ(reply->text(), "value-" + std::to_string(i));
    // The key is really on the master the map names: asked directly, that node has it.
    if (i % 10 == 0) {
      auto direct =
          cluster_->node_command(client_->master_for_slot(key_slot(key))->port, {"GET", key});
      ASSERT_TRUE(direct.ok());
      EXPECT_EQ(direct->text(), "value-" + std::to_string(i));
    }
  }
  EXPECT_EQ(client_->stats().moved, 0u);
  EXPECT_EQ(client_->stats().retries, 0u);
}

TEST_F(ClusterClientTest, KeySlotAgreesWithClusterKeyslot) {
  std::vector<std::string> keys = {"",
                                   "foo",
                                   "123456789",
                                   "{user1000}.following",
                                   "foo{}{bar}",
                                   "foo{{bar}}zap",
                                   "foo{bar}{zap}",
                                   "{}",
                                   "}{",
                                   "{a}"};
  for (int i = 0; i < 300; ++i)
    keys.push_back("k" + std::to_string(i * 7919) + "{" + std::to_string(i) + "}");
  int port = cluster_->nodes()[0].port;
  for (const std::string& key : keys) {
    auto reply = cluster_->node_command(port, {"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(reply.ok());
    ASSERT_TRUE(reply->is_integer()) << key;
    EXPECT_EQ(reply->as_integer(), key_slot(key)) << key;
  }
}

TEST_F(ClusterClientTest, ErrorRepliesAreValues) {
  ASSERT_TRUE(client_->command("typed", {"SET", "typed", "x"}).ok());
  auto reply = client_->command("typed", {"LPUSH", "typed", "y"});
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply->is_error());
  EXPECT_EQ(reply->error_prefix(), "WRONGTYPE");
  EXPECT_EQ(reply->error_status("LPUSH").code(), ErrorCode::kFailedPrecondition);
  auto nil = client_->command("never-set-key", {"GET", "never-set-key"});
  ASSERT_TRUE(nil.ok());
  EXPECT_TRUE(nil->is_nil());
}

TEST_F(ClusterClientTest, ConnectRefusesBadSeeds) {
  EXPECT_EQ(RedisCluster::connect({}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(RedisCluster::connect({"no-port"}).status().code(), ErrorCode::kInvalidArgument);
  // Nothing listens on port 1 of 127.0.0.1.
  auto down = RedisCluster::connect({"127.0.0.1:1"});
  EXPECT_EQ(down.status().code(), ErrorCode::kUnavailable);
  // One dead seed is skipped.
  std::vector<std::string> seeds = {"127.0.0.1:1", cluster_->seeds()[1]};
  EXPECT_TRUE(RedisCluster::connect(seeds).ok());
}

TEST_F(ClusterClientTest, EvalUsesEvalshaAndFallsBackOnNoscript) {
  LuaScript script("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[2])");
  ASSERT_TRUE(client_->command("{lua}.b", {"SET", "{lua}.b", "bee"}).ok());
  // Forget cached scripts everywhere: the first call must go EVALSHA → NOSCRIPT → EVAL.
  for (const auto& node : cluster_->nodes()) {
    ASSERT_TRUE(cluster_->node_command(node.port, {"SCRIPT", "FLUSH"}).ok());
  }
  for (int round = 0; round < 2; ++round) {
    auto reply = client_->eval(script, {"{lua}.a", "{lua}.b"}, {"ay"});
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    EXPECT_EQ(reply->text(), "bee");
  }
  int port = client_->master_for_slot(key_slot("{lua}"))->port;
  auto exists = cluster_->node_command(port, {"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_TRUE(exists->is_array());
  EXPECT_EQ(exists->elements().at(0).as_integer(), 1);
  EXPECT_EQ(cluster_->node_command(port, {"GET", "{lua}.a"})->text(), "ay");

  // Keys in different slots, or none, are refused before anything is sent.
  EXPECT_EQ(client_->eval(script, {"a", "b"}, {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(client_->eval(script, {}, {}).status().code(), ErrorCode::kInvalidArgument);
  // A script's own error is a value.
  auto failing = client_->eval(LuaScript("return redis.error_reply('BOOM no')"), {"x"}, {});
  ASSERT_TRUE(failing.ok());
  EXPECT_EQ(failing->error_prefix(), "BOOM");
}

TEST_F(ClusterClientTest, ConcurrentCallersShareTheClient) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string key = "counter:" + std::to_string(i % 20);
        auto reply = client_->command(key, {"INCR", key});
        if (!reply.ok() || !reply->is_integer()) ++failures;
      }
      (void)t;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  std::int64_t total = 0;
  for (int i = 0; i < 20; ++i) {
    std::string key = "counter:" + std::to_string(i);
    auto reply = client_->command(key, {"GET", key});
    ASSERT_TRUE(reply.ok());
    total += std::stoll(reply->text());
  }
  EXPECT_EQ(total, 800);
}

// A slot moves to another master while the client uses it: keys already migrated are reached
// through ASK (the map does not change), and once the move is final through MOVED (it does).
TEST_F(ClusterClientTest, SlotMigrationGoesThroughAskThenMoved) {
  const std::uint16_t slot = key_slot("{migrating}");
  auto from = cluster_->master_index_for_slot(slot);
  ASSERT_TRUE(from.ok());
  const int from_port = cluster_->nodes()[static_cast<std::size_t>(*from)].port;
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    keys.push_back("{migrating}:" + std::to_string(i));
    ASSERT_TRUE(client_->command(keys.back(), {"SET", keys.back(), std::to_string(i)}).ok());
  }
  ASSERT_EQ(client_->master_for_slot(slot)->port, from_port);

  auto ok = [](const Result<RedisValue>& reply) {
    return reply.ok() && reply->is_status() && reply->text() == "OK";
  };
  auto migration = SlotMigration::begin(*cluster_, slot);
  ASSERT_TRUE(migration.ok()) << migration.status().to_string();
  const int to_port = migration->to_port();
  Status half_moved = migration->migrate({keys.begin(), keys.begin() + 10});
  ASSERT_TRUE(half_moved.ok()) << half_moved.to_string();

  // Half the keys are on the importing node: ASK redirects, the map keeps the old master.
  std::uint64_t ask_before = client_->stats().ask;
  for (int i = 0; i < 20; ++i) {
    auto reply = client_->command(keys[static_cast<std::size_t>(i)],
                                  {"GET", keys[static_cast<std::size_t>(i)]});
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    EXPECT_EQ(reply->text(), std::to_string(i));
  }
  EXPECT_EQ(client_->stats().ask - ask_before, 10u);
  EXPECT_EQ(client_->master_for_slot(slot)->port, from_port);
  // A new key in a migrating slot is created on the importing node, through ASK too.
  ASSERT_TRUE(ok(client_->command("{migrating}:new", {"SET", "{migrating}:new", "fresh"})));
  EXPECT_EQ(client_->stats().ask - ask_before, 11u);

  Status rest_moved = migration->migrate({keys.begin() + 10, keys.end()});
  ASSERT_TRUE(rest_moved.ok()) << rest_moved.to_string();
  Status finished = migration->finish();
  ASSERT_TRUE(finished.ok()) << finished.to_string();

  // The old master now answers MOVED: the client follows it and repoints the slot.
  std::uint64_t moved_before = client_->stats().moved;
  for (int i = 0; i < 20; ++i) {
    auto reply = client_->command(keys[static_cast<std::size_t>(i)],
                                  {"GET", keys[static_cast<std::size_t>(i)]});
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    EXPECT_EQ(reply->text(), std::to_string(i));
  }
  auto fresh = client_->command("{migrating}:new", {"GET", "{migrating}:new"});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->text(), "fresh");
  EXPECT_EQ(client_->stats().moved - moved_before, 1u);
  EXPECT_EQ(client_->master_for_slot(slot)->port, to_port);
  EXPECT_EQ(cluster_->node_command(to_port, {"GET", keys[0]})->text(), "0");
}

}  // namespace
}  // namespace parley::redis
