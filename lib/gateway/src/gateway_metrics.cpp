// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway_metrics.h"

#include <string>

namespace parley::gateway {
namespace {

using Type = server::Metrics::Type;

constexpr std::string_view kOpen = "parley_gateway_connections_open";
constexpr std::string_view kAccepted = "parley_gateway_connections_accepted_total";
constexpr std::string_view kClosed = "parley_gateway_connections_closed_total";
constexpr std::string_view kRefused = "parley_gateway_connections_refused_total";
constexpr std::string_view kDroppedSlow = "parley_gateway_slow_consumer_drops_total";
constexpr std::string_view kOversize = "parley_gateway_oversize_frames_total";
constexpr std::string_view kHandshakeFailures = "parley_gateway_handshake_failures_total";
constexpr std::string_view kHttpResponses = "parley_gateway_http_responses_total";
constexpr std::string_view kFramesIn = "parley_gateway_frames_received_total";
constexpr std::string_view kFramesOut = "parley_gateway_frames_sent_total";
constexpr std::string_view kBytesIn = "parley_gateway_frame_bytes_received_total";
constexpr std::string_view kBytesOut = "parley_gateway_frame_bytes_sent_total";

}  // namespace

GatewayMetrics::GatewayMetrics(server::Metrics& metrics) : metrics_(metrics) {
  metrics_.describe(kOpen, Type::kGauge, "WebSocket connections open now");
  metrics_.describe(kAccepted, Type::kCounter, "WebSocket connections handed to the core");
  metrics_.describe(kClosed, Type::kCounter, "WebSocket connections ended");
  metrics_.describe(kRefused, Type::kCounter, "TCP connections refused over max_connections");
  metrics_.describe(kDroppedSlow, Type::kCounter,
                    "connections dropped because their write queue was full");
  metrics_.describe(kOversize, Type::kCounter, "connections closed for an oversize frame");
  metrics_.describe(kHandshakeFailures, Type::kCounter,
                    "connections that failed before the WebSocket was established, by stage");
  metrics_.describe(kHttpResponses, Type::kCounter,
                    "plain HTTP responses to non-WebSocket requests, by status");
  metrics_.describe(kFramesIn, Type::kCounter, "frames received from clients");
  metrics_.describe(kFramesOut, Type::kCounter, "frames sent to clients");
  metrics_.describe(kBytesIn, Type::kCounter, "frame payload bytes received");
  metrics_.describe(kBytesOut, Type::kCounter, "frame payload bytes sent");
  // Present from the start so dashboards and tests see zeros rather than nothing.
  metrics_.set_gauge(kOpen, {}, 0);
  for (auto name : {kAccepted, kClosed, kRefused, kDroppedSlow, kOversize, kFramesIn, kFramesOut,
                    kBytesIn, kBytesOut}) {
    metrics_.increment(name, {}, 0);
  }
}

void GatewayMetrics::connection_opened() {
  metrics_.add_gauge(kOpen, {}, 1);
  metrics_.increment(kAccepted);
}

void GatewayMetrics::connection_closed() {
  metrics_.add_gauge(kOpen, {}, -1);
  metrics_.increment(kClosed);
}

void GatewayMetrics::connection_refused() {
  metrics_.increment(kRefused);
}
void GatewayMetrics::slow_consumer_dropped() {
  metrics_.increment(kDroppedSlow);
}
void GatewayMetrics::oversize_frame() {
  metrics_.increment(kOversize);
}

void GatewayMetrics::handshake_failed(std::string_view stage) {
  metrics_.increment(kHandshakeFailures, "stage=\"" + std::string(stage) + "\"");
}

void GatewayMetrics::http_response(unsigned status) {
  metrics_.increment(kHttpResponses, "code=\"" + std::to_string(status) + "\"");
}

void GatewayMetrics::frame_received(std::uint64_t bytes) {
  metrics_.increment(kFramesIn);
  metrics_.increment(kBytesIn, {}, bytes);
}

void GatewayMetrics::frame_sent(std::uint64_t bytes) {
  metrics_.increment(kFramesOut);
  metrics_.increment(kBytesOut, {}, bytes);
}

}  // namespace parley::gateway
