// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The seam between the network gateway (lib/gateway, Boost.Beast) and the server core (this
// layer). The core never sees sockets and the gateway never interprets frames:
//
//   gateway ── on_frame(bytes) ──▶ ConnectionHandler (core, one per connection)
//   gateway ◀── send(frame) ────── ConnectionSink    (gateway, one per connection)
//
// Keeping Asio/Beast out of this layer keeps it fast to compile and lets every handler be tested
// with an in-memory sink.

#include <memory>
#include <string>

#include "parley/util/bytes.h"
#include "parley/util/error_code.h"

namespace parley::server {

// Implemented by the gateway for each live connection. Thread-safe: the core may call it from any
// thread. Never blocks.
class ConnectionSink {
 public:
  virtual ~ConnectionSink() = default;

  // Queues one encoded frame for sending. Returns false when the connection is closed or its
  // bounded write queue is full; in the latter case the gateway drops the connection (a slow
  // consumer is disconnected, never buffered without bound). Shared so one fan-out buffer can be
  // queued on many connections without copies.
  virtual bool send(std::shared_ptr<const Bytes> frame) = 0;

  // Asks the gateway to close the connection after flushing what is already queued.
  virtual void close(ErrorCode reason) = 0;

  // The peer's IP address as text ("203.0.113.7", "2001:db8::1"), for per-IP abuse limits only:
  // never logged or stored. Empty when unknown (in-memory tests): no per-IP limit applies.
  virtual std::string remote_address() const { return {}; }
};

// Implemented by the core, one per connection. The gateway calls it from one thread at a time per
// connection, in the order frames arrived. Implementations must not block on disk or network:
// slow work goes to the core's own workers and answers through the sink.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;

  // One complete binary WebSocket message.
  virtual void on_frame(ByteView frame) = 0;

  // The connection is gone (closed by either side or dropped). No sink call after this succeeds.
  virtual void on_close() = 0;
};

// What the gateway needs from the core: a handler for each new connection.
class ConnectionAcceptor {
 public:
  virtual ~ConnectionAcceptor() = default;
  virtual std::unique_ptr<ConnectionHandler> accept(std::shared_ptr<ConnectionSink> sink) = 0;
};

}  // namespace parley::server
