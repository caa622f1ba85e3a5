// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RESULTS.md: one row per scenario. CTest runs each test in its own process, so every write reads
// the rows already there and replaces only its own (rows stay in the order of kScenarioOrder).

#include <string>

namespace parley::censor {

struct Row {
  std::string scenario;
  std::string censor;
  std::string paths;
  std::string outcome = "not run";
  std::string via = "-";
  std::string to_censored = "-";
  std::string from_censored = "-";
  std::string duplicates = "-";
  std::string first_delivery = "-";
  std::string file = "-";
  std::string hits = "-";  // packets dropped/reset/held back, or NXDOMAIN answers
  std::string duration = "-";
};

// What every scenario of the run shares, for the text above the table.
struct RunParameters {
  int messages_per_direction = 0;
  int file_kib = 0;
  int outage_seconds = 0;
};

// Writes `row` into the table at `path` (keeping the other scenarios' rows) and prints it.
void write_row(const std::string& path, const RunParameters& run, const Row& row);

}  // namespace parley::censor
