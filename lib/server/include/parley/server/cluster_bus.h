// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// ClusterBus: what ServerCore needs from other parleyd nodes when many of them serve one shared
// store (cluster mode, issue 8). Passed as ServerCoreConfig::cluster_bus; nullptr (the default)
// is a single node and changes nothing.
//
// Three kinds of fact cross nodes, and none carries user data:
// - "something was committed to this device's mailbox" (a wake-up), so the node holding the
//   device's connection drains it from the store;
// - "this device is now served by a newer connection", so a node holding an older connection of
//   the same device closes it (the newer wins, as within one node);
// - a notice for the device's connection (DeviceNotice): its account's device list changed, the
//   device was removed (or its account deleted) so its connection must close, or its one-time
//   prekeys run low. Like wake-ups these may be lost; each is also true in the store, where the
//   client finds it on its next request (a removed device cannot authenticate again).
//
// The store stays the only source of truth, so the bus may lose messages (Redis pub/sub does
// during a failover): the core attaches (subscribes) *before* it drains a device's mailbox and
// wakes *after* the message is committed, so a lost wake-up only delays delivery until the next
// drain. A bus that re-makes a lost subscription calls on_wake for it, which drains at once.
//
// Threads: the core calls attach(), wake() and wake_many() from its worker threads (inside the
// authenticate and send requests), which already block on the store, so those may block on the
// network. detach() is called from ConnectionHandler::on_close, which runs on a gateway thread:
// it must not wait for the network. The callbacks may run on any thread, must return quickly
// (the core only queues work), and must not run any more for an attachment once detach() for it
// returned.

#include <cstdint>
#include <functional>
#include <vector>

#include "parley/store/records.h"
#include "parley/util/status.h"

namespace parley::server {

// What one node tells the connection of a device held by another node.
struct DeviceNotice {
  enum class Kind : std::uint8_t {
    kDeviceListChanged = 1,  // push DeviceListChanged to the connection
    kRemoved = 2,            // close the connection (device removed or account deleted)
    kPrekeysLow = 3,         // push PrekeysLow with `count` one-time prekeys left
  };
  Kind kind = Kind::kDeviceListChanged;
  std::uint64_t count = 0;  // kPrekeysLow only
};

class ClusterBus {
 public:
  struct Callbacks {
    // The device's mailbox may hold something new, or wake-ups may have been lost: drain it.
    std::function<void()> on_wake;
    // A newer connection of the same device was attached (on any node): close this one.
    std::function<void()> on_replaced;
    // Another node sent a notice for this device (see notify()).
    std::function<void(const DeviceNotice&)> on_notice;
  };

  virtual ~ClusterBus() = default;

  // A device authenticated on this node with the connection `connection_token` (unique on this
  // node). Returns once wake-ups for the device reach `callbacks` (the core drains next) and
  // announces the connection, so that older connections of the device elsewhere are replaced. An
  // error means the subscription is not confirmed yet: the attachment stays, and on_wake fires
  // once it is confirmed (delivery is delayed, not lost). Several attachments of one device on
  // one node may coexist briefly (the core replaces the older locally).
  virtual Status attach(const store::DeviceAddress& device, std::uint64_t connection_token,
                        Callbacks callbacks) = 0;

  // The connection closed. A token that is not attached (already detached, or never) is ignored.
  virtual void detach(const store::DeviceAddress& device, std::uint64_t connection_token) = 0;

  // A message for `device` was committed on this node. Called for every committed copy, whether
  // or not the device is connected here: while a device moves between nodes the old connection
  // may still be registered here when the new one's drain has already run elsewhere. The bus need
  // not deliver a wake-up back to the node that sent it (the core pushed it locally already).
  virtual void wake(const store::DeviceAddress& device) = 0;

  // wake() for every device of one send (a group message: one entry per stored copy), called
  // once per send after its commit. A bus that can batch overrides it (RedisClusterBus sends one
  // pipeline of SPUBLISH instead of one blocking round trip per device); the default wakes them
  // one at a time, so every bus keeps working.
  virtual void wake_many(const std::vector<store::DeviceAddress>& devices) {
    for (const store::DeviceAddress& device : devices) wake(device);
  }

  // Delivers `notice` to the device's attachments on the other nodes (the core handles its own
  // connections locally, so the bus need not deliver it back to this node). Called from worker
  // threads after the change is committed; may block on the network; a failure is only counted.
  virtual void notify(const store::DeviceAddress& device, const DeviceNotice& notice) = 0;
};

}  // namespace parley::server
