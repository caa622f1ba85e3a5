// SPDX-License-Identifier: AGPL-3.0-or-later
// Notices to devices after a committed change: device list changed, device removed or account
// deleted (the connection closes), one-time prekeys low. Each goes to the device's connection on
// this node directly and, in cluster mode, to its connection on any other node through
// ClusterBus::notify (the bus does not echo it back here, so a device connected here hears it
// once). Notices from other nodes arrive in on_bus_notice.
#include <vector>

#include "core_impl.h"

namespace parley::server {
namespace {

std::shared_ptr<const Bytes> device_list_changed_frame() {
  wire::Push push;
  push.mutable_device_list_changed();
  return proto::encode_shared(proto::push_frame(std::move(push)));
}

std::shared_ptr<const Bytes> prekeys_low_frame(std::uint64_t count) {
  wire::Push push;
  push.mutable_prekeys_low()->set_one_time_prekey_count(count);
  return proto::encode_shared(proto::push_frame(std::move(push)));
}

}  // namespace

void ServerCore::Impl::announce_device_list_changed(const store::AccountId& account) {
  auto connections = presence.find_account(account);
  if (!connections.empty()) {
    auto frame = device_list_changed_frame();
    for (const auto& connection : connections) connection->send(frame);
  }
  if (!config.cluster_bus) return;
  // The devices as they are now (after the change); a failed read only loses the notices.
  auto devices = store.list_devices(account);
  if (!devices.ok()) return;
  const DeviceNotice notice{DeviceNotice::Kind::kDeviceListChanged, 0};
  for (const auto& device : *devices) config.cluster_bus->notify(device.address(), notice);
}

void ServerCore::Impl::announce_device_removed(const store::DeviceAddress& device) {
  if (auto connection = presence.find(device)) connection->close(ErrorCode::kConnectionClosed);
  if (config.cluster_bus) {
    config.cluster_bus->notify(device, DeviceNotice{DeviceNotice::Kind::kRemoved, 0});
  }
}

void ServerCore::Impl::announce_account_deleted(const store::AccountId& account,
                                                const std::vector<store::DeviceAddress>& devices,
                                                const Connection* except) {
  for (const auto& connection : presence.find_account(account)) {
    if (connection.get() != except) connection->close(ErrorCode::kConnectionClosed);
  }
  if (!config.cluster_bus) return;
  const DeviceNotice notice{DeviceNotice::Kind::kRemoved, 0};
  for (const auto& device : devices) config.cluster_bus->notify(device, notice);
}

void ServerCore::Impl::announce_prekeys_low(const store::DeviceAddress& device,
                                            std::uint64_t count) {
  if (auto connection = presence.find(device)) connection->send(prekeys_low_frame(count));
  // Also when connected here: while a device moves between nodes, it may already be served
  // elsewhere (the same reason wake() is always sent).
  if (config.cluster_bus) {
    config.cluster_bus->notify(device, DeviceNotice{DeviceNotice::Kind::kPrekeysLow, count});
  }
}

void ServerCore::Impl::on_bus_notice(const std::shared_ptr<Connection>& connection,
                                     const DeviceNotice& notice) {
  switch (notice.kind) {
    case DeviceNotice::Kind::kDeviceListChanged:
      connection->send(device_list_changed_frame());
      return;
    case DeviceNotice::Kind::kRemoved:
      connection->close(ErrorCode::kConnectionClosed);  // as for a device removed here
      return;
    case DeviceNotice::Kind::kPrekeysLow:
      connection->send(prekeys_low_frame(notice.count));
      return;
  }
  // An unknown kind (a newer node in a mixed cluster): ignored.
}

}  // namespace parley::server
