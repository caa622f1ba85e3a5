// SPDX-License-Identifier: AGPL-3.0-or-later
#include "websocket_options.h"

// clang-format off
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange declared (GCC 12)
// clang-format on

#include <boost/asio/ip/address.hpp>

#include "parley/net/relay_link.h"

namespace parley::net {

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

Status check_options(const WebSocketChannelOptions& options) {
  auto invalid = [](std::string why) {
    return Status::error(ErrorCode::kInvalidArgument, std::move(why));
  };
  if (options.host.empty()) return invalid("the server's host is empty");
  if (options.port == 0) return invalid("the server's port must be between 1 and 65535");
  if (options.path.empty() || options.path.front() != '/') {
    return invalid("the WebSocket path must start with '/'");
  }
  if (options.max_frame_bytes == 0) return invalid("the frame limit must be at least one byte");
  if (options.connect_timeout.count() <= 0 || options.write_timeout.count() <= 0) {
    return invalid("the connect and write timeouts must be positive");
  }
  if (options.keepalive.count() < 0) return invalid("the keepalive interval must not be negative");
  for (const std::string& address : options.addresses) {
    if (!is_ip_address(address)) return invalid("the addresses to connect to must be IP literals");
  }
  if (options.proxy.enabled()) {
    if (options.proxy.host.empty() || options.proxy.port == 0) {
      return invalid("the proxy needs a host and a port");
    }
    if (options.proxy.username.size() > 255 || options.proxy.password.size() > 255) {
      return invalid("the proxy's user name and password are limited to 255 bytes each");
    }
  }
  const std::string& target = options.relay ? options.relay->host : options.host;
  if (options.proxy.kind == ProxyKind::kSocks5 && target.size() > 255) {
    return invalid("a host name sent to a SOCKS5 proxy is limited to 255 bytes");
  }
  if (options.relay) {
    const RelayLink& relay = *options.relay;
    if (relay.host.empty() || relay.port == 0) return invalid("the relay needs a host and a port");
    if (relay.secret_hex.size() != 2 * kRelaySecretBytes || relay.pin_hex.size() != 64) {
      return invalid("the relay link needs a 32-digit secret and a 64-digit pin");
    }
  }
  return {};
}

}  // namespace parley::net
