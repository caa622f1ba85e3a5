// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The parts of a run every driver shares, so Parley and its peers are measured the same way:
// when the measured window is, when each sender sends, and what a receiver counts.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "histogram.h"
#include "load_config.h"

namespace parley::load {

// [start, end) in steady-clock nanoseconds: traffic before start is warm-up, after end drains.
struct MeasuredWindow {
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;

  // The window that starts `config.warmup` after `now_ns` and lasts `config.duration`.
  static MeasuredWindow after_warmup(const LoadConfig& config, std::uint64_t now_ns);
  bool contains(std::uint64_t t_ns) const { return t_ns >= start_ns && t_ns < end_ns; }
  double seconds() const { return static_cast<double>(end_ns - start_ns) / 1e9; }
};

// When sender `index` of `senders` sends. With an offered rate, the senders share it evenly and
// their first sends are spread over one interval (no thundering herd); flat out, `interval` is 0
// and a sender keeps `config.window` sends in flight.
struct Pacing {
  std::chrono::nanoseconds interval{0};
  std::chrono::nanoseconds first_offset{0};

  static Pacing for_sender(const LoadConfig& config, unsigned senders, unsigned index);
  bool flat_out() const { return interval.count() == 0; }
};

// What one event-loop thread counts (merged into the report at the end; no locks).
struct Tally {
  std::uint64_t sent_in_window = 0;       // sends the server accepted, sent inside the window
  std::uint64_t delivered_in_window = 0;  // receives of messages sent inside the window
  std::uint64_t delivered_total = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t errors = 0;
  LatencyHistogram latency;  // of the messages sent inside the window

  void merge(const Tally& other);
};

// One stream of messages from one sender to one receiving device. Numbers from a sender rise by
// one per message and every server here keeps order per stream, so a number at or below the last
// one seen is a duplicate. (Small: one per device, even with 18,000 of them.)
class StreamTracker {
 public:
  // Counts one received message into `tally`; returns false for a duplicate.
  bool on_receive(std::uint64_t send_time_ns, std::uint64_t number, std::uint64_t now_ns,
                  const MeasuredWindow& window, Tally& tally);

 private:
  bool seen_any_ = false;
  std::uint64_t last_number_ = 0;
};

}  // namespace parley::load
