// SPDX-License-Identifier: AGPL-3.0-or-later
#include "results.h"

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <string_view>

namespace parley::censor {
namespace {

constexpr std::array<std::string_view, 8> kScenarioOrder = {
    "baseline", "throttle",  "outage",     "16 KB freeze",
    "IP block", "SNI block", "allow-list", "DNS NXDOMAIN"};

std::string row_line(const Row& row) {
  return "| " + row.scenario + " | " + row.censor + " | " + row.paths + " | " + row.outcome +
         " | " + row.via + " | " + row.to_censored + " | " + row.from_censored + " | " +
         row.duplicates + " | " + row.first_delivery + " | " + row.file + " | " + row.hits + " | " +
         row.duration + " |";
}

}  // namespace

void write_row(const std::string& path, const RunParameters& run, const Row& row) {
  std::map<std::string, std::string> lines;  // scenario -> table line
  {
    std::ifstream old(path);
    std::string line;
    while (std::getline(old, line)) {
      for (std::string_view order : kScenarioOrder) {
        const std::string name(order);
        if (line.rfind("| " + name + " |", 0) == 0) lines[name] = line;
      }
    }
  }
  lines[row.scenario] = row_line(row);
  std::ofstream out(path, std::ios::trunc);
  out << "<!-- SPDX-License-Identifier: AGPL-3.0-or-later -->\n"
      << "# Censor simulator results\n\n"
      << "Written by `parley_censor_test` (see README.md) into the build directory and copied "
         "here by `tests/censor/run.sh`. Messages per direction: "
      << run.messages_per_direction << "; file sent to the censored user: " << run.file_kib
      << " KiB; outage: " << run.outage_seconds
      << " s. \"First delivery\" runs from the moment the block started (for the outage: from "
         "the restore) to the first scenario message shown by either receiver's `parley listen`. "
         "\"Transport that won\" is the censored user's last `transport connected` event. \"Censor "
         "hits\" counts the packets the censor's rules dropped, reset or held back over the "
         "rate (DNS: NXDOMAIN answers), proof that the block was in the path.\n\n"
      << "| scenario | censor | censored user's paths | result | transport that won | "
         "messages to censored | messages from censored | duplicates | first delivery | "
         "file | censor hits | time |\n"
      << "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (std::string_view order : kScenarioOrder) {
    const std::string name(order);
    if (lines.count(name) > 0) out << lines[name] << "\n";
  }
  std::printf(
      "[ censor   ] %s: %s; via %s; to censored %s, from censored %s, duplicates %s, "
      "first delivery %s, file %s, censor hits %s, %s\n",
      row.scenario.c_str(), row.outcome.c_str(), row.via.c_str(), row.to_censored.c_str(),
      row.from_censored.c_str(), row.duplicates.c_str(), row.first_delivery.c_str(),
      row.file.c_str(), row.hits.c_str(), row.duration.c_str());
  (void)std::fflush(stdout);
}

}  // namespace parley::censor
