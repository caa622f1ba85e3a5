// SPDX-License-Identifier: AGPL-3.0-or-later
// Failures of whole Redis processes, each test on a cluster of its own: a master killed with
// replicas standing by (failover), and a master killed and restarted without replicas.
#include <gtest/gtest.h>

#include "parley/redis/cluster_client.h"
#include "parley/redis/crc16.h"
#include "parley/redis/sharded_pubsub.h"
#include "redis_cluster_process.h"
#include "subscriber_recorder.h"

namespace parley::redis {
namespace {

using test::RedisClusterProcess;

std::unique_ptr<RedisCluster> connect(const RedisClusterProcess& cluster,
                                      ClusterOptions options = {}) {
  auto client = RedisCluster::connect(cluster.seeds(), options);
  EXPECT_TRUE(client.ok()) << client.status().to_string();
  return client.ok() ? std::move(client).value() : nullptr;
}

bool set_ok(RedisCluster& client, const std::string& key, const std::string& value) {
  auto reply = client.command(key, {"SET", key, value});
  return reply.ok() && reply->is_status();
}

TEST(ClusterFailure, MasterKilledWithReplicasFailsOver) {
  auto started = RedisClusterProcess::start({.masters = 3, .replicas = true});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  RedisClusterProcess& cluster = **started;
  auto node_a = connect(cluster);
  auto node_b = connect(cluster);
  ASSERT_TRUE(node_a && node_b);

  test::SubscriberRecorder recorder;
  ShardedSubscriber subscriber(*node_a, recorder.message_handler(),
                               recorder.resubscribed_handler());
  std::vector<std::string> channels = test::channels_on_every_master(*node_b, "failover");
  ASSERT_EQ(channels.size(), 3u);
  for (const auto& channel : channels) {
    ASSERT_TRUE(subscriber.subscribe(channel, std::chrono::seconds(10)).ok());
  }

  const std::string& doomed_channel = channels[0];
  const std::string key = "{" + std::string(hash_tag(doomed_channel)) + "}.presence";
  ASSERT_TRUE(set_ok(*node_b, key, "before"));
  auto doomed = cluster.master_index_for_slot(key_slot(key));
  ASSERT_TRUE(doomed.ok());
  int doomed_port = cluster.nodes()[static_cast<std::size_t>(*doomed)].port;
  // The replica has the write before its master dies.
  ASSERT_TRUE(cluster.node_command(doomed_port, {"WAIT", "1", "5000"}).ok());
  cluster.kill_node(*doomed);

  // A replica takes over after the node timeout (2 s); commands get through again.
  ASSERT_TRUE(
      test::eventually([&] { return set_ok(*node_b, key, "after"); }, std::chrono::seconds(60)));
  auto reply = node_b->command(key, {"GET", key});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->text(), "after");
  EXPECT_NE(node_b->master_for_slot(key_slot(key))->port, doomed_port);
  EXPECT_GT(node_b->stats().retries, 0u);

  // The subscription on the dead master is re-made on its replica and says so; new publishes
  // arrive, on that channel and on the others.
  ASSERT_TRUE(recorder.wait_for_resubscribed(doomed_channel, std::chrono::seconds(30)));
  for (const auto& channel : channels) {
    auto receivers = spublish(*node_b, channel, "after failover");
    ASSERT_TRUE(receivers.ok()) << receivers.status().to_string();
    EXPECT_EQ(*receivers, 1) << channel;
    EXPECT_TRUE(recorder.wait_for(channel, "after failover", std::chrono::seconds(10))) << channel;
  }
  EXPECT_GE(subscriber.resubscriptions(), 1u);
}

TEST(ClusterFailure, MasterRestartWithoutReplicasFailsClearlyThenRecovers) {
  auto started = RedisClusterProcess::start({.masters = 3, .replicas = false});
  ASSERT_TRUE(started.ok()) << started.status().to_string();
  RedisClusterProcess& cluster = **started;
  ClusterOptions quick;
  quick.max_retries = 2;  // fail fast while the node is down
  auto client = connect(cluster, quick);
  auto publisher = connect(cluster);
  ASSERT_TRUE(client && publisher);

  test::SubscriberRecorder recorder;
  ShardedSubscriber subscriber(*client, recorder.message_handler(),
                               recorder.resubscribed_handler());
  const std::string channel = "w:{restart-channel}";
  ASSERT_TRUE(subscriber.subscribe(channel, std::chrono::seconds(10)).ok());

  const std::string key = "{restart-channel}.secret-key-name";
  ASSERT_TRUE(set_ok(*client, key, "v"));
  auto down = cluster.master_index_for_slot(key_slot(key));
  ASSERT_TRUE(down.ok());
  int down_port = cluster.nodes()[static_cast<std::size_t>(*down)].port;
  std::string other_key;
  for (int i = 0; other_key.empty(); ++i) {
    std::string candidate = "other:" + std::to_string(i);
    if (client->master_for_slot(key_slot(candidate))->port != down_port) other_key = candidate;
  }
  cluster.kill_node(*down);

  // Its keys fail with a clear error that names the node and no key.
  auto failed = client->command(key, {"GET", key});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("127.0.0.1:" + std::to_string(down_port)),
            std::string::npos)
      << failed.status().message();
  EXPECT_EQ(failed.status().message().find("secret-key-name"), std::string::npos);
  // Once the others mark it failed, the whole cluster refuses (full coverage is required).
  EXPECT_TRUE(test::eventually(
      [&] {
        auto reply = client->command(other_key, {"GET", other_key});
        return !reply.ok() && reply.status().code() == ErrorCode::kUnavailable &&
               reply.status().message().find("CLUSTERDOWN") != std::string::npos;
      },
      std::chrono::seconds(30)));

  ASSERT_TRUE(cluster.restart_node(*down).ok());
  ASSERT_TRUE(
      test::eventually([&] { return set_ok(*client, key, "again"); }, std::chrono::seconds(60)));
  ASSERT_TRUE(test::eventually([&] { return set_ok(*client, other_key, "again"); },
                               std::chrono::seconds(60)));
  EXPECT_EQ(client->master_for_slot(key_slot(key))->port, down_port);

  // The subscriber comes back on the restarted master.
  ASSERT_TRUE(recorder.wait_for_resubscribed(channel, std::chrono::seconds(30)));
  auto receivers = spublish(*publisher, channel, "after restart");
  ASSERT_TRUE(receivers.ok()) << receivers.status().to_string();
  EXPECT_EQ(*receivers, 1);
  EXPECT_TRUE(recorder.wait_for(channel, "after restart", std::chrono::seconds(10)));
}

}  // namespace
}  // namespace parley::redis
