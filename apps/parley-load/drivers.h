// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// One driver per server kind, all running the scenarios of load_config.h the same way: the same
// pairing, payload size, rate control (an even schedule over all senders, or `window` sends in
// flight per sender) and measured window. Each runs its own event loops and returns when done.

#include "load_config.h"
#include "parley/util/status.h"
#include "report.h"

namespace parley::load {

Result<ScenarioReport> run_parley(const LoadConfig& config);  // TLS 1.3 WebSocket, parley_proto
Result<ScenarioReport> run_mqtt(const LoadConfig& config);    // MQTT 3.1.1 over TCP, QoS 1
Result<ScenarioReport> run_xmpp(const LoadConfig& config);    // XMPP (RFC 6120/6121) over TCP

// The payload every driver sends: `size` bytes (≥ 16) that start with the send time (steady clock,
// ns) and a message number, then filler. Receivers read both back for latency and duplicates.
std::string make_payload(std::size_t size, std::uint64_t send_time_ns, std::uint64_t number);
struct PayloadStamp {
  std::uint64_t send_time_ns = 0;
  std::uint64_t number = 0;
};
Result<PayloadStamp> read_payload(std::string_view payload);
std::uint64_t steady_now_ns();

}  // namespace parley::load
