// SPDX-License-Identifier: AGPL-3.0-or-later
// network_id(): which network the device is on, so the transport manager can remember what worked
// here (a censored mobile network and a home Wi-Fi behave differently).
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/sha.h>

#include <algorithm>
#include <string>
#include <vector>

#include "parley/net/transport_manager.h"
#include "parley/util/encoding.h"

namespace parley::net {

std::string network_id() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::vector<std::string> parts;
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || (entry->ifa_flags & IFF_LOOPBACK) != 0 ||
        (entry->ifa_flags & IFF_UP) == 0) {
      continue;
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (entry->ifa_addr->sa_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
      if (inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text) == nullptr) continue;
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      // Only the /64 prefix of global addresses: temporary (privacy) addresses change daily
      // within the same network, and link-local ones say nothing about the network.
      in6_addr prefix = reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&prefix)) continue;
      std::fill(prefix.s6_addr + 8, prefix.s6_addr + 16, 0);
      if (inet_ntop(AF_INET6, &prefix, text, sizeof text) == nullptr) continue;
    } else {
      continue;
    }
    parts.push_back(std::string(entry->ifa_name) + "=" + text);
  }
  freeifaddrs(list);
  if (parts.empty()) return "";
  std::sort(parts.begin(), parts.end());
  std::string joined;
  for (const std::string& part : parts) joined += part + "\n";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest);
  // 8 bytes are plenty to tell a handful of networks apart and reveal nothing useful.
  return hex_encode(ByteView(digest, 8));
}

}  // namespace parley::net
