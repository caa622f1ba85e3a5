// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The handshake with a SOCKS5 (RFC 1928, RFC 1929) or HTTP CONNECT (RFC 9110 §9.3.6) proxy, run
// by the WebSocket channel on its first hop's counting socket before any TLS. Asio only, no
// Beast: the channel's one Beast translation unit stays as small as it can.
//
// Lifetime. Handlers capture a plain `this`, as the channel's do: the channel owns both the
// handshake and the io_context, and no handler runs once the channel has joined its thread.

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "counting_socket.h"
#include "parley/net/proxy.h"
#include "parley/util/status.h"

namespace parley::net {

class ProxyHandshake {
 public:
  // A read or write failed: the Status to report (the channel's kTimeout when its deadline cut the
  // socket, else kProxyFailed with `what` and the error).
  using IoFailed = std::function<Status(boost::system::error_code ec, const std::string& what)>;
  // The end: ok once the socket reaches the target through the proxy, else why not.
  using Done = std::function<void(Status)>;

  // `stage` is the channel's description of what it is doing, for the message when its deadline
  // cuts the handshake; the handshake keeps it current. The target is what the proxy connects
  // to (the relay or parleyd); a host name is sent as it is, for the proxy to resolve.
  ProxyHandshake(CountingSocket& socket, const ProxyConfig& proxy, std::string target_host,
                 std::uint16_t target_port, std::string& stage, IoFailed io_failed, Done done);

  ProxyHandshake(const ProxyHandshake&) = delete;
  ProxyHandshake& operator=(const ProxyHandshake&) = delete;

  // SOCKS5 or HTTP CONNECT, as the proxy's kind says (it must not be kNone).
  void start();

 private:
  using Step = void (ProxyHandshake::*)();

  void proxy_write(Step next);
  void proxy_read(std::size_t size, Step next);
  Status proxy_error(const std::string& what) const;
  void tunnel_ready();

  void start_socks5();
  void socks5_read_method();
  void socks5_on_method();
  void socks5_read_auth();
  void socks5_on_auth();
  void socks5_send_connect();
  void socks5_read_reply();
  void socks5_on_reply();
  void socks5_read_bound_name();

  void start_http_connect();
  void http_connect_read();
  void http_connect_on_head(std::size_t head_bytes);

  CountingSocket& socket_;
  const ProxyConfig& proxy_;
  const std::string target_host_;
  const std::uint16_t target_port_;
  const std::string target_;          // "host:port" of the target, for messages and CONNECT
  const std::string proxy_endpoint_;  // "host:port" of the proxy, for messages
  std::string& stage_;
  const IoFailed io_failed_;
  const Done done_;

  std::vector<std::uint8_t> proxy_out_;
  std::vector<std::uint8_t> proxy_in_;
  std::string proxy_head_;
};

}  // namespace parley::net
