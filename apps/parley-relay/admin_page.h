// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the admin listener (--admin) answers: /metrics in Prometheus' text format, /healthz, and
// 404 for the rest. Plain strings, so relay_server.cpp only reads the request and writes this.

#include <string>
#include <string_view>

#include "counters.h"

namespace parley::relay {

// The counters in Prometheus' text exposition format (version 0.0.4).
std::string metrics_text(const RelayCounters& counters);

// The whole HTTP/1.1 response (Connection: close) to an admin request; `request` is the request
// head read so far, of which only the request line counts.
std::string admin_response(std::string_view request, const RelayCounters& counters);

}  // namespace parley::relay
