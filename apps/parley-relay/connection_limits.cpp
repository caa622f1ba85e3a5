// SPDX-License-Identifier: AGPL-3.0-or-later
#include "connection_limits.h"

#include <utility>

namespace parley::relay {

std::shared_ptr<ConnectionSlot> ConnectionSlot::admit(RelayCounters& counters,
                                                      std::uint64_t max_connections,
                                                      std::uint32_t max_connections_per_ip,
                                                      const std::string& ip) {
  if (counters.active.load() >= max_connections) {
    counters.refused_total_limit.fetch_add(1);
    return nullptr;
  }
  {
    std::lock_guard lock(counters.ip_mutex);
    auto& count = counters.per_ip[ip];
    if (max_connections_per_ip != 0 && count >= max_connections_per_ip) {
      counters.refused_ip_limit.fetch_add(1);
      if (count == 0) counters.per_ip.erase(ip);
      return nullptr;
    }
    ++count;
    counters.active.fetch_add(1);
  }
  return std::shared_ptr<ConnectionSlot>(new ConnectionSlot(counters, ip));
}

ConnectionSlot::~ConnectionSlot() {
  counters_.active.fetch_sub(1);
  std::lock_guard lock(counters_.ip_mutex);
  auto it = counters_.per_ip.find(ip_);
  if (it != counters_.per_ip.end() && --it->second == 0) counters_.per_ip.erase(it);
}

}  // namespace parley::relay
