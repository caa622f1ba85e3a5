// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// parley::gateway::Gateway — the TLS 1.3 WebSocket front door of parleyd.
//
// It terminates TLS (1.3 only), serves one binary WebSocket endpoint under an ordinary-looking path
// and hands every complete message to the server core through the seam in
// parley/server/connection.h. Anything that is not a WebSocket upgrade on that path gets the small
// pages an ordinary web server would serve, so an active probe learns nothing. A second, plain-HTTP
// listener (loopback only) serves /healthz and /metrics to the operator, and
// PUT /admin/pow-difficulty when GatewayConfig::set_pow_difficulty is set.
//
// Asio and Beast stay inside src/: this header is cheap to include.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "parley/server/connection.h"
#include "parley/server/metrics.h"
#include "parley/util/status.h"

namespace parley::gateway {

struct GatewayConfig {
  // Where clients connect. Port 0 picks a free port (see Gateway::listen_port()).
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  // Operator endpoints (/healthz, /metrics), plain HTTP. Must be a loopback address.
  std::string admin_address = "127.0.0.1";
  std::uint16_t admin_port = 9090;
  bool admin_enabled = true;

  // PEM files: the certificate chain (leaf first) and its private key.
  std::string cert_file;
  std::string key_file;

  // The WebSocket endpoint. Every other path answers like a plain web server.
  std::string websocket_path = "/api/v1/stream";

  // I/O threads; 0 means one per CPU core.
  unsigned threads = 0;

  // One WebSocket message = one frame; a larger one closes the connection (code 1009).
  std::size_t max_frame_bytes = std::size_t{256} * 1024;
  // Per-connection outbound queue. A client that lets it fill up is dropped.
  std::size_t max_queued_frames = 1024;
  std::size_t max_queued_bytes = 8u << 20;

  // TCP accept → TLS handshake → HTTP upgrade must finish within this time.
  std::chrono::milliseconds handshake_timeout{10'000};
  // A connection with no traffic is pinged after half of this and dropped after all of it.
  std::chrono::milliseconds idle_timeout{120'000};
  // Connections open at once; further ones are closed right after accept.
  std::size_t max_connections = 100'000;

  // `PUT /admin/pow-difficulty` on the admin listener (body: the number of bits) calls this to
  // change the sign-up proof of work without a restart; its error answers 400. Empty: 404.
  std::function<Status(std::uint32_t bits)> set_pow_difficulty;
};

class Gateway {
 public:
  // `acceptor` and `metrics` must outlive the Gateway.
  Gateway(GatewayConfig config, server::ConnectionAcceptor& acceptor, server::Metrics& metrics);
  ~Gateway();  // stops (with a short grace period) if still running
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Loads the certificate, binds both listeners and starts the I/O threads. Errors:
  // kInvalidArgument (bad config or an admin address that is not loopback), kInvalidKey (the
  // certificate or key cannot be loaded or do not match), kUnavailable (an address cannot be
  // bound).
  Status start();

  // The ports actually bound (useful with port 0). 0 before start().
  std::uint16_t listen_port() const;
  std::uint16_t admin_port() const;

  // True between start() and stop_accepting(): what /healthz reports.
  bool accepting() const;

  // First step of a graceful shutdown: closes the public listener (new clients are refused) and
  // makes /healthz answer 503. Existing connections keep working, so the core can finish the
  // requests it has in flight and answer them.
  void stop_accepting();

  // Second step: flushes every connection's queue, sends a WebSocket close "going away" and waits
  // up to `grace` for the clients to finish closing; whatever is left is then cut. Stops the
  // admin listener and joins the I/O threads. Every on_close() has been called when this returns.
  // Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5'000));

  // Connections currently open (handshake done and not yet closed).
  std::size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::gateway
