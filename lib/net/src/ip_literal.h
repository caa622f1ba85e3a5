// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Is this text an IP address? inet_pton() reads a C string, so text with a NUL inside would be
// judged by its first part alone ("2001:db8::\0garbage" is not an address): these reject it.

#include <string_view>

namespace parley::net {

bool is_ipv4_literal(std::string_view text);
bool is_ipv6_literal(std::string_view text);  // without brackets
inline bool is_ip_literal(std::string_view text) {
  return is_ipv4_literal(text) || is_ipv6_literal(text);
}

}  // namespace parley::net
