// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// File transfer progress for people: a bar that redraws itself on a terminal, or plain
// percentage lines when stderr is a file or a pipe. Pure: the caller passes the time and writes
// the strings where it wants them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "parley/client/client.h"

namespace parley::cli {

// "0 B", "512 B", "1.5 KiB", "10.0 MiB", "2.3 GiB".
std::string format_bytes(std::uint64_t bytes);
// "0:05", "12:34", "1:02:03"; "--:--" when unknown (no rate yet).
std::string format_eta(std::optional<double> seconds);

struct ProgressFigures {
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  double bytes_per_second = 0;        // 0: not known yet
  std::optional<double> eta_seconds;  // nullopt: not known yet
};

// "sending photo.jpg [##########----------]  50%  5.0 MiB / 10.0 MiB  1.2 MiB/s  ETA 0:04", at
// most `width` columns (the name is shortened first). `name` must already be terminal-safe.
std::string progress_bar_line(const std::string& name, bool upload, const ProgressFigures& figures,
                              std::size_t width);
// "parley: sending photo.jpg: 50% (5.0 MiB of 10.0 MiB, 1.2 MiB/s, ETA 0:04)".
std::string progress_plain_line(const std::string& name, bool upload,
                                const ProgressFigures& figures);

// Follows the transfers one TransferProgress at a time and says when to print what.
class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ProgressMeter(bool terminal, std::size_t width = 80)
      : terminal_(terminal), width_(width) {}

  // The text to write to stderr now, if any. On a terminal: "\r" + the bar (at most every
  // 200 ms, always at 100%, then "\n"). Otherwise: a line at every further 10% and at the end.
  std::optional<std::string> update(const client::TransferProgress& progress,
                                    Clock::time_point now);

 private:
  bool terminal_;
  std::size_t width_;
  std::string current_;  // the transfer being shown: upload flag + message id
  Clock::time_point started_{};
  std::uint64_t started_done_ = 0;
  Clock::time_point last_print_{};
  int last_decile_ = -1;
  bool finished_ = false;
};

}  // namespace parley::cli
