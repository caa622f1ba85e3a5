// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The operator's endpoints on the loopback-only admin listener (plain HTTP/1.1):
//   GET /healthz  200 "ok" while the gateway accepts clients, 503 "stopping" after
//   GET /metrics  Prometheus text format (the shared registry: core and gateway metrics)
//   PUT /admin/pow-difficulty  body "<bits>": the sign-up proof of work from now on (200; 400
//                 with the reason for a bad value). PUT, not POST: a browser on the host cannot
//                 send it from another site's page without a CORS preflight we never answer.

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <utility>  // before Asio (see session.h)

#include "parley/server/metrics.h"
#include "parley/util/status.h"

namespace parley::gateway {

struct AdminContext {
  std::function<bool()> healthy;
  server::Metrics& metrics;
  // Empty: the admin endpoint that changes it answers 404.
  std::function<Status(std::uint32_t bits)> set_pow_difficulty;
};

// Serves requests on `socket` (whose executor is a fresh strand) until the client closes; returns
// at once. `context` outlives the connection.
void start_admin_connection(boost::asio::ip::tcp::socket socket, const AdminContext& context);

}  // namespace parley::gateway
