// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ip_literal.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace parley::net {
namespace {

bool parses_as(int family, std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string terminated(text);
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(family, terminated.c_str(), address) == 1;
}

}  // namespace

bool is_ipv4_literal(std::string_view text) {
  return parses_as(AF_INET, text);
}

bool is_ipv6_literal(std::string_view text) {
  return parses_as(AF_INET6, text);
}

}  // namespace parley::net
