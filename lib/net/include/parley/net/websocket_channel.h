// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The direct transport: TLS 1.3 + WebSocket (binary messages) to parleyd, as docs/protocol.md
// describes. Boost.Beast stays inside src/websocket_channel.cpp; this header is light.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/net/frame_channel.h"
#include "parley/net/proxy.h"
#include "parley/net/relay_link.h"
#include "parley/util/status.h"

namespace parley::net {

using namespace std::chrono_literals;

// How the client decides to trust the server's certificate. Exactly one way is used, in this
// order: a pinned SHA-256 fingerprint of the leaf certificate (what `parleyd gen-cert` prints),
// a CA/certificate file (PEM; for a self-signed server, its own certificate), or the system's
// trust store with host name verification.
struct TlsTrust {
  std::string pinned_sha256;  // 64 hex digits, ':' separators allowed; empty: not pinned
  std::string ca_file;        // PEM file; empty: the system's default trust store
};

// The path to parleyd, outermost first:
//   [proxy] → [relay (outer TLS to the relay, pinned; relay_handshake.h)] → TLS 1.3 to parleyd →
//   WS.
// With a proxy, the proxy connects to the relay (or to parleyd) and resolves its name (remote DNS).
// Without one, the TCP connection goes to the relay or parleyd directly: to `addresses` when given
// (IP literals, e.g. from DNS-over-HTTPS or typed by the user), else to what `host` resolves to.
struct WebSocketChannelOptions {
  std::string host = "127.0.0.1";  // parleyd's name or address
  std::uint16_t port = 8443;
  // The name sent as SNI and verified in parleyd's certificate; empty: `host` (no SNI when it is
  // an IP literal). Lets an endpoint be an IP literal while TLS still names the server.
  std::string tls_name;
  // Pre-resolved IP literals for the first TCP hop's host (parleyd, or the relay when one is set);
  // tried in order. Empty: the system resolver. Ignored with a proxy (it resolves).
  std::vector<std::string> addresses;
  ProxyConfig proxy;               // kind kNone: no proxy
  std::optional<RelayLink> relay;  // set: reach parleyd through this relay
  // Set to true by another thread to abandon the connect (the transport manager cancels the
  // attempts that lost a race); the connect then fails with kCancelled within ~100 ms.
  std::shared_ptr<const std::atomic<bool>> cancel;
  std::string path = "/api/v1/stream";
  TlsTrust trust;
  std::chrono::milliseconds connect_timeout = 15s;  // TCP + TLS + WebSocket upgrade together
  std::chrono::milliseconds write_timeout = 30s;    // a write stuck this long breaks the channel
  std::size_t max_frame_bytes = 1u << 20;           // larger incoming/outgoing frames are refused
  // WebSocket pings after this much silence keep middleboxes from dropping an idle connection;
  // a missing pong within the same interval breaks the channel. Zero disables.
  std::chrono::milliseconds keepalive = 25s;
};

// Connects (TCP, [proxy], [relay], TLS 1.3 only, WebSocket upgrade) and returns a channel whose
// background thread reads frames as they arrive; bytes_received() counts the first hop's TCP
// payload. Errors: kUnavailable (resolve/connect/handshake failed, with the reason), kTimeout
// (the whole path took longer than connect_timeout), kCertificateUntrusted (parleyd's certificate
// is not the pinned/trusted one, or the relay's key is not the link's pin), kProxyFailed (the
// proxy is unreachable, refused the target, or refused our credentials), kRelayRefused (the relay
// answered as an ordinary web site: wrong secret or a stale link), kInvalidArgument (options).
Result<std::unique_ptr<FrameChannel>> connect_websocket(const WebSocketChannelOptions& options);

// Parses "host:port" (IPv6 as "[::1]:port"). kInvalidArgument with a sentence when malformed.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> parse_host_port(const std::string& text);

}  // namespace parley::net
