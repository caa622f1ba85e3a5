// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The operator's endpoints on the loopback-only admin listener (plain HTTP/1.1):
//   GET /healthz  200 "ok" while the gateway accepts clients, 503 "stopping" after
//   GET /metrics  Prometheus text format (the shared registry: core and gateway metrics)

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <utility>  // before Asio (see session.h)

#include "parley/server/metrics.h"

namespace parley::gateway {

struct AdminContext {
  std::function<bool()> healthy;
  server::Metrics& metrics;
};

// Serves requests on `socket` (whose executor is a fresh strand) until the client closes; returns
// at once. `context` outlives the connection.
void start_admin_connection(boost::asio::ip::tcp::socket socket, const AdminContext& context);

}  // namespace parley::gateway
