// SPDX-License-Identifier: AGPL-3.0-or-later
// RedisCluster::pipeline() and spublish_many() against a real 3-master cluster: results in input
// order with keys on every master, a slot in migration (ASK) and then moved (MOVED) under the
// client's feet, sharded publishes reaching subscribers on every master, and a dead master whose
// entries fail one by one while the others succeed.
#include <gtest/gtest.h>

#include <set>

#include "cluster_fixtures.h"
#include "parley/redis/cluster_client.h"
#include "parley/redis/crc16.h"
#include "parley/redis/sharded_pubsub.h"
#include "redis_cluster_process.h"
#include "subscriber_recorder.h"

namespace parley::redis {
namespace {

using test::RedisClusterProcess;
using test::SlotMigration;

constexpr auto kWait = std::chrono::seconds(10);

class ClusterPipelineTest : public test::OneClientTest {
 protected:
};

bool is_ok_status(const Result<RedisValue>& reply) {
  return reply.ok() && reply->is_status() && reply->text() == "OK";
}

TEST_F(ClusterPipelineTest, AnswersInInputOrderWithKeysOnEveryMaster) {
  std::vector<RoutedCommand> sets;
  std::set<int> masters;
  for (int i = 0; i < 1000; ++i) {
    std::string key = "piped:" + std::to_string(i);
    sets.push_back({key, {"SET", key, "value-" + std::to_string(i)}});
    masters.insert(client_->master_for_slot(key_slot(key))->port);
  }
  ASSERT_EQ(masters.size(), 3u);
  auto stored = client_->pipeline(sets);
  ASSERT_EQ(stored.size(), sets.size());
  for (const auto& reply : stored) ASSERT_TRUE(is_ok_status(reply));

  // Reads, counters on one key (its replies must count up in order), an ordinary error reply
  // and an empty command, all mixed in one pipeline.
  std::vector<RoutedCommand> mixed = {{"piped-counter", {"DEL", "piped-counter"}}};
  for (int i = 0; i < 1000; ++i) {
    std::string key = "piped:" + std::to_string(i);
    mixed.push_back({key, {"GET", key}});
    if (i % 10 == 0) mixed.push_back({"piped-counter", {"INCR", "piped-counter"}});
  }
  mixed.push_back({"piped:0", {"LPUSH", "piped:0", "x"}});
  mixed.push_back({"piped:1", {}});
  mixed.push_back({"piped-never-set", {"GET", "piped-never-set"}});
  auto replies = client_->pipeline(mixed);
  ASSERT_EQ(replies.size(), mixed.size());
  ASSERT_TRUE(replies[0].ok());
  EXPECT_TRUE(replies[0].value().is_integer());
  std::size_t at = 1;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(replies[at].ok()) << replies[at].status().to_string();
    EXPECT_EQ(replies[at].value().text(), "value-" + std::to_string(i));
    ++at;
    if (i % 10 == 0) {
      ASSERT_TRUE(replies[at].ok());
      EXPECT_EQ(replies[at].value().as_integer(), i / 10 + 1);
      ++at;
    }
  }
  ASSERT_TRUE(replies[at].ok());
  EXPECT_EQ(replies[at].value().error_prefix(), "WRONGTYPE");
  EXPECT_EQ(replies[at + 1].status().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(replies[at + 2].ok());
  EXPECT_TRUE(replies[at + 2].value().is_nil());

  // The values are really on the masters the map names.
  for (int i = 0; i < 1000; i += 97) {
    std::string key = "piped:" + std::to_string(i);
    auto direct =
        cluster_->node_command(client_->master_for_slot(key_slot(key))->port, {"GET", key});
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(direct->text(), "value-" + std::to_string(i));
  }
  EXPECT_EQ(client_->stats().moved, 0u);
  EXPECT_EQ(client_->stats().retries, 0u);
  EXPECT_TRUE(client_->pipeline({}).empty());
}

TEST_F(ClusterPipelineTest, SpublishManyReachesSubscribersOnEveryMaster) {
  test::SubscriberRecorder recorder;
  ShardedSubscriber subscriber(*client_, recorder.message_handler(),
                               recorder.resubscribed_handler());
  std::vector<std::string> channels = test::channels_on_every_master(*client_, "piped");
  ASSERT_EQ(channels.size(), 3u);
  for (const auto& channel : channels) {
    ASSERT_TRUE(subscriber.subscribe(channel, kWait).ok());
  }
  // And one channel nobody listens to.
  std::vector<std::string> targets = channels;
  targets.push_back("w:{piped-nobody}");

  auto published = spublish_many(*client_, targets, "wake:piped");
  ASSERT_EQ(published.size(), targets.size());
  for (std::size_t i = 0; i < channels.size(); ++i) {
    ASSERT_TRUE(published[i].ok()) << published[i].status().to_string();
    EXPECT_EQ(*published[i], 1) << channels[i];
    EXPECT_TRUE(recorder.wait_for(channels[i], "wake:piped", kWait)) << channels[i];
  }
  ASSERT_TRUE(published.back().ok());
  EXPECT_EQ(*published.back(), 0);
  EXPECT_TRUE(spublish_many(*client_, {}, "nothing").empty());
}

// A slot moves to another master while the client's map still names the old one: keys already
// migrated are answered through ASK (map unchanged), and once the move is final through MOVED
// (the slot is repointed), each in the pipeline's next round, in input order.
TEST_F(ClusterPipelineTest, FollowsAskThenMovedDuringASlotMigration) {
  const std::uint16_t slot = key_slot("{piped-migrating}");
  // Keys of the migrating slot between keys of other slots.
  std::vector<RoutedCommand> gets;
  std::vector<std::string> moving;
  for (int i = 0; i < 20; ++i) {
    moving.push_back("{piped-migrating}:" + std::to_string(i));
    ASSERT_TRUE(is_ok_status(client_->command(moving.back(), {"SET", moving.back(), "m"})));
    std::string other = "piped-other:" + std::to_string(i);
    ASSERT_TRUE(is_ok_status(client_->command(other, {"SET", other, "o"})));
    gets.push_back({moving.back(), {"GET", moving.back()}});
    gets.push_back({other, {"GET", other}});
  }
  auto check = [&](const std::vector<Result<RedisValue>>& replies) {
    ASSERT_EQ(replies.size(), gets.size());
    for (std::size_t i = 0; i < replies.size(); ++i) {
      ASSERT_TRUE(replies[i].ok()) << replies[i].status().to_string();
      EXPECT_EQ(replies[i].value().text(), i % 2 == 0 ? "m" : "o") << i;
    }
  };

  auto migration = SlotMigration::begin(*cluster_, slot);
  ASSERT_TRUE(migration.ok()) << migration.status().to_string();
  const int from_port = migration->from_port();
  const int to_port = migration->to_port();
  Status half_moved = migration->migrate({moving.begin(), moving.begin() + 10});
  ASSERT_TRUE(half_moved.ok()) << half_moved.to_string();

  const ClusterStats before_ask = client_->stats();
  check(client_->pipeline(gets));
  EXPECT_EQ(client_->stats().ask - before_ask.ask, 10u);
  EXPECT_EQ(client_->stats().moved, before_ask.moved);
  EXPECT_EQ(client_->master_for_slot(slot)->port, from_port);

  Status rest_moved = migration->migrate({moving.begin() + 10, moving.end()});
  ASSERT_TRUE(rest_moved.ok()) << rest_moved.to_string();
  Status finished = migration->finish();
  ASSERT_TRUE(finished.ok()) << finished.to_string();

  // Every entry of the slot went to the old master in the same round, so each met MOVED once.
  const ClusterStats before_moved = client_->stats();
  check(client_->pipeline(gets));
  EXPECT_EQ(client_->stats().moved - before_moved.moved, 20u);
  EXPECT_EQ(client_->stats().retries, before_moved.retries);
  EXPECT_EQ(client_->master_for_slot(slot)->port, to_port);

  // The map is right now: no more redirects.
  const ClusterStats settled = client_->stats();
  check(client_->pipeline(gets));
  EXPECT_EQ(client_->stats().moved, settled.moved);
  EXPECT_EQ(client_->stats().ask, settled.ask);
}

// A master dies without a replica: its entries fail after the retries, each on its own and
// naming the node but no key, while the entries on the other masters succeed; once the node is
// back the same pipeline succeeds whole.
TEST(ClusterPipelineFailure, DeadMasterFailsOnlyItsOwnEntries) {
  auto started = RedisClusterProcess::start({.masters = 3, .replicas = false});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  RedisClusterProcess& cluster = **started;
  ClusterOptions quick;
  quick.max_retries = 2;  // fail fast while the node is down
  auto connected = RedisCluster::connect(cluster.seeds(), quick);
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  RedisCluster& client = **connected;

  std::vector<RoutedCommand> sets;
  for (int i = 0; i < 300; ++i) {
    std::string key = "piped-secret-key:" + std::to_string(i);
    sets.push_back({key, {"SET", key, "v"}});
  }
  for (const auto& reply : client.pipeline(sets)) ASSERT_TRUE(is_ok_status(reply));  // pooled

  auto down = cluster.master_index_for_slot(key_slot(sets[0].routing_key));
  ASSERT_TRUE(down.ok());
  const int down_port = cluster.nodes()[static_cast<std::size_t>(*down)].port;
  cluster.kill_node(*down);

  // Right away, before the other masters mark the node failed (node timeout 2 s).
  auto replies = client.pipeline(sets);
  ASSERT_EQ(replies.size(), sets.size());
  std::size_t failed = 0;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (client.master_for_slot(key_slot(sets[i].routing_key))->port != down_port) {
      EXPECT_TRUE(is_ok_status(replies[i])) << i << ": " << replies[i].status().to_string();
      continue;
    }
    ++failed;
    ASSERT_FALSE(replies[i].ok()) << i;
    EXPECT_EQ(replies[i].status().code(), ErrorCode::kUnavailable);
    const std::string message = replies[i].status().message();  // status() is a temporary
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(down_port)), std::string::npos) << message;
    EXPECT_EQ(message.find("secret-key"), std::string::npos) << message;
  }
  EXPECT_GT(failed, 0u);
  EXPECT_LT(failed, sets.size());
  EXPECT_EQ(client.stats().retries, 2u);  // one per round, not one per failed entry

  ASSERT_TRUE(cluster.restart_node(*down).ok());
  EXPECT_TRUE(test::eventually(
      [&] {
        for (const auto& reply : client.pipeline(sets)) {
          if (!is_ok_status(reply)) return false;
        }
        return true;
      },
      std::chrono::seconds(60)));
}

}  // namespace
}  // namespace parley::redis
