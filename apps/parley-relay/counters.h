// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The relay's shared counters: what /metrics reports, and the connection counts the limits
// check (connection_limits.h). Updated from every network thread, hence atomics and a mutex.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace parley::relay {

struct RelayCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> parley_sessions{0};
  std::atomic<std::uint64_t> decoy_sessions{0};
  std::atomic<std::uint64_t> head_timeouts{0};
  std::atomic<std::uint64_t> bytes_up{0};
  std::atomic<std::uint64_t> bytes_down{0};
  std::atomic<std::uint64_t> refused_total_limit{0};
  std::atomic<std::uint64_t> refused_ip_limit{0};
  std::atomic<std::uint64_t> upstream_failures{0};
  std::atomic<std::uint64_t> tls_failures{0};

  std::mutex ip_mutex;
  std::unordered_map<std::string, std::uint32_t> per_ip;
};

}  // namespace parley::relay
