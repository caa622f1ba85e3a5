// SPDX-License-Identifier: AGPL-3.0-or-later
#include "channel_text.h"

namespace parley::net {

std::string millis_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

std::string authority(const std::string& host, std::uint16_t port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 123)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string socks5_reply_text(unsigned reply) {
  switch (reply) {
    case 1:
      return "general failure";
    case 2:
      return "not allowed by its rules";
    case 3:
      return "network unreachable";
    case 4:
      return "host unreachable";
    case 5:
      return "connection refused";
    case 6:
      return "TTL expired";
    case 7:
      return "command not supported";
    case 8:
      return "address type not supported";
    default:
      return "unknown error";
  }
}

std::string lowercase_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

}  // namespace parley::net
