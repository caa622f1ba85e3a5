// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What one parley-load run does: which server kind it drives (Parley, or a peer users would pick
// instead), which scenario, and how hard. Every driver reads the same struct so the peers get the
// same message size, pairing and rate control as Parley.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/util/status.h"

namespace parley::load {

enum class Target { kParley, kMqtt, kXmpp };
enum class Scenario { kIdle, kRelay, kOffline, kGroup };

const char* target_name(Target target);
const char* scenario_name(Scenario scenario);

// "1500ms", "2s", "1m" (a bare number is milliseconds). kInvalidArgument otherwise.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

struct LoadConfig {
  Target target = Target::kParley;
  Scenario scenario = Scenario::kRelay;

  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  // Parley only: more nodes of one cluster on `host` (parleyd --redis): devices alternate between
  // the nodes, so every relay pair's messages cross from one node to the other.
  std::vector<std::uint16_t> also_ports;
  // Local addresses to bind outgoing connections to, used round robin (e.g. 127.0.0.2 …): one
  // source address has only ~28,000 ephemeral ports, and servers limit connections per address.
  std::vector<std::string> source_addresses;
  unsigned threads = 1;  // event loops (one thread each)

  // idle: connections held authenticated and idle for `duration`, with keepalives every
  // `keepalive`; relay: `pairs` pairs (2 × pairs devices, each sending to its partner);
  // offline: `pairs` senders fill `pairs` offline mailboxes with `messages_per_device` each, then
  // the recipients connect and drain; group: one sender to `group_size` receiving devices.
  unsigned connections = 100;
  unsigned pairs = 50;
  unsigned group_size = 50;
  unsigned messages_per_device = 100;

  std::size_t message_bytes = 300;  // payload per message (≥ 16: it carries a timestamp and id)
  double rate = 0;                  // offered messages/s over all senders; 0: flat out
  unsigned window = 16;             // sends in flight per sender (not yet acked by the server)
  std::chrono::milliseconds duration{10'000};  // measured time (idle: time held)
  std::chrono::milliseconds warmup{2'000};     // traffic before measuring starts (relay, group)
  std::chrono::milliseconds keepalive{25'000};
  std::chrono::milliseconds connect_timeout{60'000};  // for all connections to be ready

  pid_t server_pid = 0;  // when set: the server's RSS and CPU are sampled from /proc

  // Parley: TLS trust for the server certificate (a PEM file; empty: accept any, for loopback
  // benchmarks only) and the WebSocket path.
  std::string ca_file;
  std::string ws_path = "/api/v1/stream";
  // MQTT and XMPP: the peers run without TLS (bench/peers/README.md says why).
  std::string xmpp_domain = "localhost";
  std::string user_prefix = "load";  // account names: <prefix><index>
  std::string password = "parley-load";
};

}  // namespace parley::load
