// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The gateway's own metrics, written into the shared registry so /metrics shows them beside the
// core's. Labels are fixed words only: never addresses or anything a client sent.

#include <cstdint>
#include <string_view>

#include "parley/server/metrics.h"

namespace parley::gateway {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(server::Metrics& metrics);

  server::Metrics& registry() { return metrics_; }
  const server::Metrics& registry() const { return metrics_; }

  void connection_opened();  // WebSocket established and handed to the core
  void connection_closed();
  void connection_refused();  // over max_connections
  void slow_consumer_dropped();
  void oversize_frame();
  void handshake_failed(std::string_view stage);  // "tls", "http", "websocket", "timeout"
  void http_response(unsigned status);            // pages served to non-WebSocket requests
  void frame_received(std::uint64_t bytes);
  void frame_sent(std::uint64_t bytes);

 private:
  server::Metrics& metrics_;
};

}  // namespace parley::gateway
