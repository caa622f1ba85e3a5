// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Sharded pub/sub (Redis 7 SPUBLISH / SSUBSCRIBE): a channel lives in the slot of its name, so a
// publish goes to one master only instead of being broadcast to the whole cluster.
//
// Messages are not durable. While a subscription is being re-made — its master died and a replica
// took over, its slot was migrated (the server then sends `sunsubscribe`), the connection broke —
// messages published to it are lost. Parley does not rely on them: a device's connection
// subscribes to its wake-up channel *before* it drains its mailbox from the store, and a sender
// publishes only *after* its message is committed, so a lost wake-up only delays delivery until
// the next drain. `on_resubscribed` says when such a gap may have happened: drain again then.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parley/redis/cluster_client.h"
#include "parley/util/status.h"

namespace parley::redis {

// SPUBLISH routed by the channel's slot; the number of subscribers that received it (on that
// master). An error reply becomes a Status naming only the error's first word.
Result<std::int64_t> spublish(RedisCluster& cluster, std::string_view channel,
                              std::string_view message);

// The same `message` on every channel in one RedisCluster::pipeline(): one round trip per master
// instead of one per channel. One result per channel, in order, each as spublish() gives it.
std::vector<Result<std::int64_t>> spublish_many(RedisCluster& cluster,
                                                const std::vector<std::string>& channels,
                                                std::string_view message);

struct SubscriberOptions {
  // Wait between attempts to (re)subscribe a channel whose master cannot be reached.
  std::chrono::milliseconds retry_backoff{200};
  // How often the reader compares its subscriptions with the cluster's slot map when idle (a
  // slot may move without a message on this connection).
  std::chrono::milliseconds check_interval{1000};
};

// Keeps a set of sharded subscriptions alive: one dedicated connection per master that owns a
// subscribed channel's slot, and one reader thread that delivers messages and repairs
// subscriptions (reloads the slot map and subscribes again on the channel's current master).
// Callbacks run on that reader thread, one at a time; they must not block for long and must not
// destroy the subscriber. subscribe()/unsubscribe() may be called from any thread, callbacks
// included.
class ShardedSubscriber {
 public:
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;
  // A subscription was lost and has been made again: messages may have been missed meanwhile.
  using ResubscribedHandler = std::function<void(std::string_view channel)>;

  // `cluster` must outlive the subscriber (its slot map routes the subscriptions).
  ShardedSubscriber(RedisCluster& cluster, MessageHandler on_message,
                    ResubscribedHandler on_resubscribed, SubscriberOptions options = {});
  ~ShardedSubscriber();  // stops the reader thread and closes the connections
  ShardedSubscriber(const ShardedSubscriber&) = delete;
  ShardedSubscriber& operator=(const ShardedSubscriber&) = delete;

  // Subscribes to `channel` and waits until its master has confirmed, so that the caller may
  // drain the store next. kTimeout if not confirmed within `timeout`; the channel then stays
  // requested and is retried in the background (on_resubscribed fires when it succeeds).
  Status subscribe(std::string_view channel, std::chrono::milliseconds timeout);

  // Stops delivering `channel` (at once; the server is told in the background).
  void unsubscribe(std::string_view channel);

  // Whether `channel` is confirmed on its master right now.
  bool is_subscribed(std::string_view channel) const;

  // How many times a lost subscription was made again (tests and metrics).
  std::uint64_t resubscriptions() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::redis
