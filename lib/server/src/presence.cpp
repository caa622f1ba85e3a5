// SPDX-License-Identifier: AGPL-3.0-or-later
#include "presence.h"

#include "connection_state.h"

namespace parley::server {

std::shared_ptr<Connection> Presence::add(const store::DeviceAddress& address,
                                          const std::shared_ptr<Connection>& connection,
                                          bool& registered) {
  std::lock_guard lock(mutex_);
  // Checked under the registry lock: on_close marks the connection closed before it removes the
  // entry under this same lock, so a closed connection can never stay registered.
  registered = !connection->closed();
  if (!registered) return nullptr;
  auto [it, inserted] = connections_.try_emplace(address, connection);
  if (inserted) return nullptr;
  std::shared_ptr<Connection> old = std::move(it->second);
  it->second = connection;
  return old == connection ? nullptr : old;
}

void Presence::remove(const store::DeviceAddress& address, const Connection* connection) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(address);
  if (it != connections_.end() && it->second.get() == connection) connections_.erase(it);
}

std::shared_ptr<Connection> Presence::find(const store::DeviceAddress& address) const {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(address);
  return it == connections_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Connection>> Presence::find_account(
    const store::AccountId& account) const {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mutex_);
  for (auto it = connections_.lower_bound({account, 0});
       it != connections_.end() && it->first.account_id == account; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::size_t Presence::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace parley::server
