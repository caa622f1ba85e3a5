// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Private to the gateway: one client connection (TLS → HTTP → WebSocket) and the registry the
// gateway uses to reach every live connection at shutdown.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange (GCC 12)
#include <vector>

#include "gateway_metrics.h"
#include "parley/gateway/gateway.h"
#include "parley/server/connection.h"

namespace parley::gateway {

// What a session can be asked to do from outside its strand. Both are posted onto it.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Graceful: flush the queue, then WebSocket close "going away" (or cut a half-open handshake).
  virtual void go_away() = 0;
  // Immediate: close the socket.
  virtual void abort() = 0;
};

// Every live session (from accept to teardown), so shutdown can reach them and wait for them.
class SessionRegistry {
 public:
  std::uint64_t add(std::weak_ptr<SessionControl> session);
  void remove(std::uint64_t id);
  std::size_t size() const;
  // True once shutdown began: sessions still in their handshake give up instead of opening.
  bool closing() const;

  void go_away_all();
  void abort_all();
  // True when the registry emptied before the deadline.
  bool wait_empty(std::chrono::steady_clock::time_point deadline);

 private:
  mutable std::mutex mutex_;
  std::condition_variable empty_;
  std::uint64_t next_id_ = 1;
  bool closing_ = false;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionControl>> sessions_;
};

// Everything a session needs that the gateway owns; it outlives every session.
struct SessionContext {
  const GatewayConfig& config;
  boost::asio::ssl::context& tls;
  server::ConnectionAcceptor& acceptor;
  GatewayMetrics& metrics;
  SessionRegistry& registry;
};

// Starts a session on `socket` (whose executor is a fresh strand) and returns at once.
void start_session(boost::asio::ip::tcp::socket socket, SessionContext& context);

}  // namespace parley::gateway
