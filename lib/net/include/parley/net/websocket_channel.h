// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The direct transport: TLS 1.3 + WebSocket (binary messages) to parleyd, as docs/protocol.md
// describes. Boost.Beast stays inside src/websocket_channel.cpp; this header is light.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "parley/net/frame_channel.h"
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

struct WebSocketChannelOptions {
  std::string host = "127.0.0.1";  // name or address; also the SNI and the verified name
  std::uint16_t port = 8443;
  std::string path = "/api/v1/stream";
  TlsTrust trust;
  std::chrono::milliseconds connect_timeout = 15s;  // TCP + TLS + WebSocket upgrade together
  std::chrono::milliseconds write_timeout = 30s;    // a write stuck this long breaks the channel
  std::size_t max_frame_bytes = 1u << 20;           // larger incoming/outgoing frames are refused
  // WebSocket pings after this much silence keep middleboxes from dropping an idle connection;
  // a missing pong within the same interval breaks the channel. Zero disables.
  std::chrono::milliseconds keepalive = 25s;
};

// Connects (TCP, TLS 1.3 only, WebSocket upgrade) and returns a channel whose background thread
// reads frames as they arrive. Errors: kUnavailable (resolve/connect/handshake failed, with the
// reason), kTimeout, kCertificateUntrusted (the certificate is not the pinned/trusted one).
Result<std::unique_ptr<FrameChannel>> connect_websocket(const WebSocketChannelOptions& options);

// Parses "host:port" (IPv6 as "[::1]:port"). kInvalidArgument with a sentence when malformed.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> parse_host_port(const std::string& text);

}  // namespace parley::net
