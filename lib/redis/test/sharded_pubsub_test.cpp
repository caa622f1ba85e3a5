// SPDX-License-Identifier: AGPL-3.0-or-later
// Sharded pub/sub across two clients (two parleyd nodes) on a real cluster, including a slot that
// migrates under a live subscription.
#include "parley/redis/sharded_pubsub.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "cluster_fixtures.h"
#include "parley/redis/crc16.h"
#include "redis_cluster_process.h"
#include "subscriber_recorder.h"

namespace parley::redis {
namespace {

class ShardedPubSubTest : public test::TwoClientsTest {
 protected:
};

TEST_F(ShardedPubSubTest, SubscriberOnOneNodeGetsPublishesFromAnotherOnEveryMaster) {
  test::SubscriberRecorder recorder;
  ShardedSubscriber subscriber(*node_a_, recorder.message_handler(),
                               recorder.resubscribed_handler());
  std::vector<std::string> channels = test::channels_on_every_master(*node_b_, "pubsub-all");
  ASSERT_EQ(channels.size(), 3u);
  for (const std::string& channel : channels) {
    ASSERT_TRUE(subscriber.subscribe(channel, std::chrono::seconds(10)).ok());
    EXPECT_TRUE(subscriber.is_subscribed(channel));
  }
  for (const std::string& channel : channels) {
    auto receivers = spublish(*node_b_, channel, "hello " + channel);
    ASSERT_TRUE(receivers.ok()) << receivers.status().to_string();
    EXPECT_EQ(*receivers, 1);
  }
  for (const std::string& channel : channels) {
    EXPECT_TRUE(recorder.wait_for(channel, "hello " + channel, std::chrono::seconds(10)))
        << channel;
  }
  EXPECT_EQ(recorder.count(), 3u);
  EXPECT_EQ(subscriber.resubscriptions(), 0u);
}

TEST_F(ShardedPubSubTest, UnsubscribeStopsDelivery) {
  test::SubscriberRecorder recorder;
  ShardedSubscriber subscriber(*node_a_, recorder.message_handler(),
                               recorder.resubscribed_handler());
  ASSERT_TRUE(subscriber.subscribe("w:{unsub}", std::chrono::seconds(10)).ok());
  ASSERT_TRUE(subscriber.subscribe("w:{kept}", std::chrono::seconds(10)).ok());
  subscriber.unsubscribe("w:{unsub}");
  EXPECT_FALSE(subscriber.is_subscribed("w:{unsub}"));
  // The server drops the subscription in the background: no receiver left there.
  EXPECT_TRUE(
      test::eventually([&] { return spublish(*node_b_, "w:{unsub}", "late").value_or(-1) == 0; },
                       std::chrono::seconds(10)));
  ASSERT_EQ(spublish(*node_b_, "w:{kept}", "still here").value_or(-1), 1);
  EXPECT_TRUE(recorder.wait_for("w:{kept}", "still here", std::chrono::seconds(10)));
  EXPECT_EQ(recorder.count_for("w:{unsub}"), 0u);
}

// The slot of a subscribed channel is given to another master: the old one drops the
// subscription with a `sunsubscribe` push, the subscriber re-makes it on the new master and
// says so (the caller would drain its mailbox now).
TEST_F(ShardedPubSubTest, ResubscribesWhenTheSlotMigrates) {
  test::SubscriberRecorder recorder;
  ShardedSubscriber subscriber(*node_a_, recorder.message_handler(),
                               recorder.resubscribed_handler());
  const std::string channel = "w:{moving-channel}";
  const std::uint16_t slot = key_slot(channel);
  ASSERT_TRUE(subscriber.subscribe(channel, std::chrono::seconds(10)).ok());
  auto from = cluster_->master_index_for_slot(slot);
  ASSERT_TRUE(from.ok());
  int to = (*from + 1) % 3;
  auto to_id = cluster_->node_id(cluster_->nodes()[static_cast<std::size_t>(to)].port);
  ASSERT_TRUE(to_id.ok());
  // The slot holds no keys, so it can be reassigned directly; the new owner first.
  for (int index : {to, *from, (to + 1) % 3}) {
    auto reply =
        cluster_->node_command(cluster_->nodes()[static_cast<std::size_t>(index)].port,
                               {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", *to_id});
    ASSERT_TRUE(reply.ok());
    ASSERT_EQ(reply->text(), "OK");
  }
  ASSERT_TRUE(recorder.wait_for_resubscribed(channel, std::chrono::seconds(20)));
  EXPECT_TRUE(subscriber.is_subscribed(channel));
  EXPECT_GE(subscriber.resubscriptions(), 1u);
  EXPECT_EQ(node_a_->master_for_slot(slot)->port,
            cluster_->nodes()[static_cast<std::size_t>(to)].port);
  auto receivers = spublish(*node_b_, channel, "after the move");
  ASSERT_TRUE(receivers.ok()) << receivers.status().to_string();
  EXPECT_EQ(*receivers, 1);
  EXPECT_TRUE(recorder.wait_for(channel, "after the move", std::chrono::seconds(10)));
}

}  // namespace
}  // namespace parley::redis
