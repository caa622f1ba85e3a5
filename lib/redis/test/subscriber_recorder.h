// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Test helpers for ShardedSubscriber: a recorder of what its callbacks saw, with waits on a
// condition variable and a deadline (no sleeps), and channel names spread over the masters.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "parley/redis/cluster_client.h"
#include "parley/redis/crc16.h"
#include "parley/redis/sharded_pubsub.h"

namespace parley::redis::test {

class SubscriberRecorder {
 public:
  ShardedSubscriber::MessageHandler message_handler() {
    return [this](std::string_view channel, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(channel, message);
      changed_.notify_all();
    };
  }
  ShardedSubscriber::ResubscribedHandler resubscribed_handler() {
    return [this](std::string_view channel) {
      std::lock_guard lock(mutex_);
      resubscribed_.emplace_back(channel);
      changed_.notify_all();
    };
  }

  bool wait_for(const std::string& channel, const std::string& message,
                std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& [c, m] : messages_) {
        if (c == channel && m == message) return true;
      }
      return false;
    });
  }

  bool wait_for_resubscribed(const std::string& channel, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& c : resubscribed_) {
        if (c == channel) return true;
      }
      return false;
    });
  }

  std::size_t count() {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  std::size_t count_for(const std::string& channel) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [c, m] : messages_) n += c == channel ? 1 : 0;
    return n;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<std::string, std::string>> messages_;
  std::vector<std::string> resubscribed_;
};

// One channel name per master (as `cluster`'s map sees it), named w:{<prefix>-<n>}.
inline std::vector<std::string> channels_on_every_master(const RedisCluster& cluster,
                                                         const std::string& prefix) {
  std::set<int> seen;
  std::vector<std::string> channels;
  std::size_t masters = cluster.slot_map().shards().size();
  for (int i = 0; i < 1000 && channels.size() < masters; ++i) {
    std::string channel = "w:{" + prefix + "-" + std::to_string(i) + "}";
    auto master = cluster.master_for_slot(key_slot(channel));
    if (master && seen.insert(master->port).second) channels.push_back(channel);
  }
  return channels;
}

}  // namespace parley::redis::test
