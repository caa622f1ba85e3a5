// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RedisClusterBus: the ClusterBus of parleyd's cluster mode over Redis Cluster sharded pub/sub.
//
// Each attached device has one channel, redis::wakeup_channel() (its slot is the device's, so one
// master carries all of a device's traffic). Three tiny messages, no user data:
// - "wake:<node id>" after a commit for the device. The sending node ignores its own (it pushed
//   locally already); every other node holding the device drains it from the store.
// - "serve:<generation>" when a connection of the device attaches. The generation comes from
//   HINCRBY on the device's presence key (redis::presence_key(), which also records the node), so
//   every attachment of a device gets a larger number than all before it, whatever order the
//   messages arrive in; a node holding an attachment with a smaller generation closes it (the
//   newer wins). An attachment whose own generation is not known yet remembers the largest one
//   it saw and compares once it knows.
// - "note:<node id>:<kind>:<count>" for notify(): kind is "devices" (the account's device list
//   changed), "removed" (close the connection) or "prekeys" (count one-time prekeys left; count
//   is 0 for the other kinds). The sending node ignores its own (the core told its connections
//   directly); every other node hands it to each attachment of the device that has not been
//   replaced. A message that does not parse strictly, or names a kind this node does not know
//   (a newer node's), is ignored and counted in ignored_messages.
//
// Pub/sub may lose messages (a failover, a slot migration, a broken connection). A lost wake-up
// only delays delivery: when the subscriber re-makes a subscription, every attachment of that
// channel is woken and drains. A lost notice is found in the store by the client's next request
// (cluster_bus.h). A lost "serve" leaves two connections of one device open on two
// nodes until one of them closes; both get every message (the device acks by seq, so it sees
// duplicates at worst, never a loss).
//
// Blocking: attach() waits for the subscription and one script (ServerCore calls it on a worker
// thread, which already blocks on the store); wake() and notify() wait for one SPUBLISH,
// wake_many() for one pipelined batch of them (one round trip per master). Callbacks
// run on the subscriber's reader thread under this bus's lock, which is what guarantees that none
// runs after detach() returns.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "parley/redis/cluster_client.h"
#include "parley/redis/sharded_pubsub.h"
#include "parley/server/cluster_bus.h"

namespace parley::cluster {

struct RedisClusterBusOptions {
  // This node's name in "wake:" messages, unique among the nodes; empty: 16 random hex digits.
  std::string node_id;
  // How long attach() waits for the master to confirm the subscription before it answers
  // kTimeout (the subscription keeps being retried; the device is woken once it succeeds).
  std::chrono::milliseconds subscribe_timeout{2000};
  // Idle lifetime of a device's presence key (generation + node), refreshed by every attach.
  // Far longer than any connection lives without reconnecting.
  std::chrono::milliseconds presence_ttl{std::chrono::hours(24 * 30)};
  redis::SubscriberOptions subscriber;
};

struct RedisClusterBusStats {
  std::uint64_t wakes_published = 0;
  std::uint64_t wake_errors = 0;      // SPUBLISH failed (delivery waits for the next drain)
  std::uint64_t wakes_received = 0;   // from other nodes, for an attached device
  std::uint64_t replaced = 0;         // attachments told to close by a newer one
  std::uint64_t resubscriptions = 0;  // channels re-made after a loss (each wakes its devices)
  std::uint64_t announce_errors = 0;  // the generation script or its SPUBLISH failed
  std::uint64_t notices_published = 0;
  std::uint64_t notice_errors = 0;     // SPUBLISH of a notice failed (the store still has it)
  std::uint64_t notices_received = 0;  // from other nodes, delivered to an attachment
  std::uint64_t ignored_messages = 0;  // malformed or of an unknown kind (never delivered)
};

class RedisClusterBus final : public server::ClusterBus {
 public:
  // `cluster` must outlive the bus; the bus must outlive every ServerCore using it.
  explicit RedisClusterBus(redis::RedisCluster& cluster, RedisClusterBusOptions options = {});
  ~RedisClusterBus() override;
  RedisClusterBus(const RedisClusterBus&) = delete;
  RedisClusterBus& operator=(const RedisClusterBus&) = delete;

  Status attach(const store::DeviceAddress& device, std::uint64_t connection_token,
                Callbacks callbacks) override;
  void detach(const store::DeviceAddress& device, std::uint64_t connection_token) override;
  void wake(const store::DeviceAddress& device) override;
  // One pipeline of SPUBLISH (redis::spublish_many): one round trip per master for the batch.
  // Counted per device in wakes_published / wake_errors, like wake().
  void wake_many(const std::vector<store::DeviceAddress>& devices) override;
  void notify(const store::DeviceAddress& device, const server::DeviceNotice& notice) override;

  const std::string& node_id() const { return node_id_; }
  RedisClusterBusStats stats() const;
  // Attachments held now (tests, metrics).
  std::size_t attachments() const;

 private:
  struct Attachment {
    std::uint64_t token = 0;
    std::uint64_t generation = 0;   // 0 until the generation script answered
    std::uint64_t newest_seen = 0;  // largest "serve" generation seen while ours was unknown
    bool replaced = false;
    Callbacks callbacks;
  };
  using Channels = std::map<std::string, std::vector<Attachment>, std::less<>>;

  void on_message(std::string_view channel, std::string_view message);
  // A "note:" message (prefix removed); caller holds mutex_.
  void on_notice_locked(std::string_view channel, std::string_view body,
                        const std::vector<std::uint64_t>& tokens);
  void on_resubscribed(std::string_view channel);
  // Tells `attachment` to close once; caller holds mutex_.
  void replace_locked(Attachment& attachment);
  Attachment* find_locked(std::string_view channel, std::uint64_t token);

  redis::RedisCluster& cluster_;
  const RedisClusterBusOptions options_;
  const std::string node_id_;
  const std::string wake_message_;

  // Recursive: callbacks run under it (see above) and may call back into the bus.
  mutable std::recursive_mutex mutex_;
  Channels channels_;

  std::atomic<std::uint64_t> wakes_published_{0};
  std::atomic<std::uint64_t> wake_errors_{0};
  std::atomic<std::uint64_t> wakes_received_{0};
  std::atomic<std::uint64_t> replaced_{0};
  std::atomic<std::uint64_t> resubscriptions_{0};
  std::atomic<std::uint64_t> announce_errors_{0};
  std::atomic<std::uint64_t> notices_published_{0};
  std::atomic<std::uint64_t> notice_errors_{0};
  std::atomic<std::uint64_t> notices_received_{0};
  std::atomic<std::uint64_t> ignored_messages_{0};

  // Last: destroyed first, which stops its reader thread before the state above goes away.
  std::unique_ptr<redis::ShardedSubscriber> subscriber_;
};

}  // namespace parley::cluster
