// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What a scenario measured, printed for people and as one JSON object for bench/run.sh.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "histogram.h"
#include "load_config.h"
#include "proc_stats.h"

namespace parley::load {

struct ScenarioReport {
  Target target = Target::kParley;
  Scenario scenario = Scenario::kRelay;

  std::uint64_t connections = 0;  // connections that were ready (authenticated / subscribed)
  std::uint64_t sent = 0;         // messages the server accepted in the measured window
  std::uint64_t delivered = 0;    // messages received (and acked) in the measured window
  std::uint64_t errors = 0;       // failed connections, refused sends, protocol errors
  std::uint64_t duplicates = 0;   // a message received twice by the same device
  double seconds = 0;             // length of the measured window
  double setup_seconds = 0;       // connecting and signing in / registering
  LatencyHistogram latency;       // send → receive, measured window only

  // Process samples at the start and the end of the measured window (server: server_pid).
  bool has_server = false;
  ProcessSample server_before, server_after;
  ProcessSample client_before, client_after;  // this process
  std::uint64_t slab_before = 0, slab_after = 0;

  std::map<std::string, double> extra;  // scenario-specific numbers, named with units
  std::vector<std::string> notes;       // e.g. the first error's text

  double delivered_per_second() const { return seconds > 0 ? delivered / seconds : 0; }
};

// Multi-line text for a terminal.
std::string format_text(const ScenarioReport& report);
// One JSON object on one line (numbers in ns, bytes, seconds as named).
std::string format_json(const ScenarioReport& report);

}  // namespace parley::load
