// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Running the parley-load binary in a test and reading its one-line JSON report.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::load::testing {

struct LoadRun {
  int exit_code = -1;  // -1: killed after the timeout
  std::string out;     // stdout: the report
  std::string err;     // stderr: why it could not run
};

// Runs PARLEY_LOAD_PATH with `args`, waits up to `timeout`.
LoadRun run_load(const std::vector<std::string>& args,
                 std::chrono::milliseconds timeout = std::chrono::seconds(120));

// A number in the report by its path, e.g. "delivered", "latency_ns.p50", "extra.drain_…";
// nullopt when absent. Only for parley-load's own flat output, not a general JSON reader.
std::optional<double> json_number(const std::string& json, std::string_view path);

}  // namespace parley::load::testing
