// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// An in-memory ClusterBus for tests: every node's FakeClusterBus joins one FakeBusNetwork, which
// routes wake-ups, replacements and notices synchronously on the caller's thread (no Redis, no
// threads). It behaves like RedisClusterBus: a wake-up or notice is not echoed to the node that
// sent it, each attach gets a per-device generation and replaces every attachment of the device
// with an older one, and a test may drop wake-ups (like pub/sub during a failover) or simulate a
// resubscription.

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "parley/server/cluster_bus.h"

namespace parley::server::testing {

class FakeClusterBus;

class FakeBusNetwork {
 public:
  // Wake-ups sent from now on are lost (counted in dropped_wakes()).
  void set_drop_wakes(bool drop) {
    std::lock_guard lock(mutex_);
    drop_wakes_ = drop;
  }
  std::size_t dropped_wakes() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  // Notices sent by any node, whether or not an attachment received them.
  std::size_t notices_sent() const {
    std::lock_guard lock(mutex_);
    return notices_;
  }
  std::size_t attachments() const {
    std::lock_guard lock(mutex_);
    return attachments_.size();
  }

 private:
  friend class FakeClusterBus;
  struct Attachment {
    const FakeClusterBus* node;
    store::DeviceAddress device;
    std::uint64_t token;
    std::uint64_t generation;
    ClusterBus::Callbacks callbacks;
  };

  // Recursive: callbacks run under it (so none runs after detach returns) and may re-enter.
  mutable std::recursive_mutex mutex_;
  std::vector<Attachment> attachments_;
  std::map<store::DeviceAddress, std::uint64_t> generations_;
  bool drop_wakes_ = false;
  std::size_t dropped_ = 0;
  std::size_t notices_ = 0;
};

class FakeClusterBus final : public ClusterBus {
 public:
  explicit FakeClusterBus(FakeBusNetwork& network) : network_(network) {}

  Status attach(const store::DeviceAddress& device, std::uint64_t token,
                Callbacks callbacks) override {
    std::lock_guard lock(network_.mutex_);
    std::uint64_t generation = ++network_.generations_[device];
    // Copied: a callback may detach (erase) while we iterate.
    std::vector<Attachment> older;
    for (const auto& a : network_.attachments_) {
      if (a.device == device && a.generation < generation) older.push_back(a);
    }
    network_.attachments_.push_back({this, device, token, generation, std::move(callbacks)});
    for (const auto& a : older) a.callbacks.on_replaced();
    return Status();
  }

  void detach(const store::DeviceAddress& device, std::uint64_t token) override {
    std::lock_guard lock(network_.mutex_);
    auto& all = network_.attachments_;
    std::erase_if(all, [&](const Attachment& a) {
      return a.node == this && a.device == device && a.token == token;
    });
  }

  void wake(const store::DeviceAddress& device) override {
    std::lock_guard lock(network_.mutex_);
    if (network_.drop_wakes_) {
      ++network_.dropped_;
      return;
    }
    std::vector<Attachment> targets;
    for (const auto& a : network_.attachments_) {
      if (a.device == device && a.node != this) targets.push_back(a);
    }
    for (const auto& a : targets) a.callbacks.on_wake();
  }

  // Records the batch (tests check that a send wakes once with all its devices), then routes
  // each device like wake().
  void wake_many(const std::vector<store::DeviceAddress>& devices) override {
    std::lock_guard lock(network_.mutex_);
    wake_batches_.push_back(devices);
    for (const auto& device : devices) wake(device);
  }

  // Every wake_many() call this node made, in order.
  std::vector<std::vector<store::DeviceAddress>> wake_batches() const {
    std::lock_guard lock(network_.mutex_);
    return wake_batches_;
  }

  void notify(const store::DeviceAddress& device, const DeviceNotice& notice) override {
    std::lock_guard lock(network_.mutex_);
    ++network_.notices_;
    std::vector<Attachment> targets;
    for (const auto& a : network_.attachments_) {
      if (a.device == device && a.node != this) targets.push_back(a);
    }
    for (const auto& a : targets) {
      if (a.callbacks.on_notice) a.callbacks.on_notice(notice);
    }
  }

  // What RedisClusterBus does when a lost subscription was made again: wake every attachment.
  void resubscribed() {
    std::lock_guard lock(network_.mutex_);
    std::vector<Attachment> mine;
    for (const auto& a : network_.attachments_) {
      if (a.node == this) mine.push_back(a);
    }
    for (const auto& a : mine) a.callbacks.on_wake();
  }

 private:
  using Attachment = FakeBusNetwork::Attachment;
  FakeBusNetwork& network_;
  std::vector<std::vector<store::DeviceAddress>> wake_batches_;  // guarded by network_.mutex_
};

}  // namespace parley::server::testing
