// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The connection limits (--max-connections, --max-connections-per-ip): a new connection either
// gets a slot, counted in RelayCounters until the slot is destroyed, or is refused and the refusal
// counted. No sockets here, so the bookkeeping is unit-tested on its own.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "counters.h"

namespace parley::relay {

// Holds one connection's place in the limits; released when the connection's last piece ends.
class ConnectionSlot {
 public:
  // A slot for a connection from `ip`, or nullptr when a limit refuses it (0 per IP: no limit).
  static std::shared_ptr<ConnectionSlot> admit(RelayCounters& counters,
                                               std::uint64_t max_connections,
                                               std::uint32_t max_connections_per_ip,
                                               const std::string& ip);
  ~ConnectionSlot();
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

 private:
  ConnectionSlot(RelayCounters& counters, std::string ip)
      : counters_(counters), ip_(std::move(ip)) {}

  RelayCounters& counters_;
  std::string ip_;
};

}  // namespace parley::relay
