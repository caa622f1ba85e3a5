// SPDX-License-Identifier: AGPL-3.0-or-later
#include "admin_page.h"

#include <cstdint>
#include <sstream>

namespace parley::relay {

std::string metrics_text(const RelayCounters& counters) {
  std::ostringstream out;
  const auto metric = [&out](const char* name, const char* type, const char* help,
                             std::uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << ' ' << value << '\n';
  };
  const auto& c = counters;
  metric("parley_relay_connections_accepted_total", "counter", "TCP connections accepted",
         c.accepted.load());
  metric("parley_relay_connections_active", "gauge", "connections open now", c.active.load());
  metric("parley_relay_parley_sessions_total", "counter",
         "connections that carried the secret and were forwarded upstream",
         c.parley_sessions.load());
  metric("parley_relay_decoy_sessions_total", "counter", "connections handed to the decoy site",
         c.decoy_sessions.load());
  metric("parley_relay_head_timeouts_total", "counter",
         "connections that sent no complete request head in time (served by the decoy)",
         c.head_timeouts.load());
  metric("parley_relay_bytes_up_total", "counter", "bytes forwarded from clients upstream",
         c.bytes_up.load());
  metric("parley_relay_bytes_down_total", "counter", "bytes forwarded from upstream to clients",
         c.bytes_down.load());
  out << "# HELP parley_relay_refused_total connections closed before TLS by a limit\n"
      << "# TYPE parley_relay_refused_total counter\n"
      << "parley_relay_refused_total{limit=\"max_connections\"} " << c.refused_total_limit.load()
      << "\nparley_relay_refused_total{limit=\"max_connections_per_ip\"} "
      << c.refused_ip_limit.load() << '\n';
  metric("parley_relay_upstream_failures_total", "counter",
         "sessions whose upstream (parleyd, relay or decoy site) could not be reached",
         c.upstream_failures.load());
  metric("parley_relay_tls_failures_total", "counter", "TLS handshakes that failed",
         c.tls_failures.load());
  return out.str();
}

std::string admin_response(std::string_view request, const RelayCounters& counters) {
  const std::string_view line = request.substr(0, request.find("\r\n"));
  std::string status = "404 Not Found";
  std::string type = "text/plain; charset=utf-8";
  std::string body = "not found\n";
  if (line.rfind("GET /metrics ", 0) == 0) {
    status = "200 OK";
    type = "text/plain; version=0.0.4; charset=utf-8";
    body = metrics_text(counters);
  } else if (line.rfind("GET /healthz ", 0) == 0) {
    status = "200 OK";
    body = "ok\n";
  }
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace parley::relay
