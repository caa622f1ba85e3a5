// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Which device is connected where on this node: one authenticated connection per device. A newer
// connection of the same device replaces the older one, which is told to close.

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "parley/store/records.h"

namespace parley::server {

class Connection;

class Presence {
 public:
  // Registers `connection` for `address`; returns the connection it replaced (to be closed), if
  // any. A connection already closed is not registered (on_close may have run concurrently), and
  // then `registered` is false.
  std::shared_ptr<Connection> add(const store::DeviceAddress& address,
                                  const std::shared_ptr<Connection>& connection, bool& registered);

  // Removes the entry only if it still belongs to `connection`.
  void remove(const store::DeviceAddress& address, const Connection* connection);

  std::shared_ptr<Connection> find(const store::DeviceAddress& address) const;
  std::vector<std::shared_ptr<Connection>> find_account(const store::AccountId& account) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<store::DeviceAddress, std::shared_ptr<Connection>> connections_;
};

}  // namespace parley::server
