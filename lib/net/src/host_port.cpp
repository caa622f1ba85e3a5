// SPDX-License-Identifier: AGPL-3.0-or-later
#include <string_view>

#include "parley/net/websocket_channel.h"

namespace parley::net {
namespace {

Status invalid(const std::string& text, std::string_view why) {
  return Status::error(ErrorCode::kInvalidArgument,
                       "'" + text + "' is not a server address: " + std::string(why) +
                           " (expected host:port, or [IPv6]:port)");
}

// Decimal digits only: "+1", " 1" and "0x1" are refused rather than guessed at.
Result<std::uint16_t> parse_port(const std::string& text, std::string_view digits) {
  if (digits.empty()) return invalid(text, "the port is missing");
  std::uint32_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return invalid(text, "the port must be a number");
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return invalid(text, "the port must be at most 65535");
  }
  if (value == 0) return invalid(text, "the port must be between 1 and 65535");
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<HostPort> parse_host_port(const std::string& text) {
  if (text.empty()) return invalid(text, "it is empty");
  std::string_view view = text;
  std::string_view host;
  std::string_view rest;  // what follows the host: ":port"
  if (view.front() == '[') {
    std::size_t close = view.find(']');
    if (close == std::string_view::npos) return invalid(text, "the '[' has no matching ']'");
    host = view.substr(1, close - 1);
    rest = view.substr(close + 1);
    if (host.find(':') == std::string_view::npos) {
      return invalid(text, "brackets are only for IPv6 addresses");
    }
  } else {
    std::size_t colon = view.rfind(':');
    if (colon == std::string_view::npos) return invalid(text, "the port is missing");
    host = view.substr(0, colon);
    rest = view.substr(colon);
    if (host.find(':') != std::string_view::npos) {
      return invalid(text, "an IPv6 address needs brackets, as in [::1]:8443");
    }
  }
  if (host.empty()) return invalid(text, "the host is empty");
  if (host.find_first_of(" \t\r\n/[]@") != std::string_view::npos) {
    return invalid(text, "the host contains a character not allowed in a name or address");
  }
  if (rest.empty() || rest.front() != ':') return invalid(text, "the port is missing");
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t port, parse_port(text, rest.substr(1)));
  return HostPort{std::string(host), port};
}

}  // namespace parley::net
