// SPDX-License-Identifier: AGPL-3.0-or-later
#include "measure.h"

namespace parley::load {

MeasuredWindow MeasuredWindow::after_warmup(const LoadConfig& config, std::uint64_t now_ns) {
  const auto warmup = std::chrono::duration_cast<std::chrono::nanoseconds>(config.warmup).count();
  const auto length = std::chrono::duration_cast<std::chrono::nanoseconds>(config.duration).count();
  MeasuredWindow window;
  window.start_ns = now_ns + static_cast<std::uint64_t>(warmup);
  window.end_ns = window.start_ns + static_cast<std::uint64_t>(length);
  return window;
}

Pacing Pacing::for_sender(const LoadConfig& config, unsigned senders, unsigned index) {
  Pacing pacing;
  if (config.rate <= 0 || senders == 0) return pacing;
  // Each sender offers rate / senders messages per second; sender i starts i / senders of an
  // interval late, so the senders together send evenly rather than in bursts.
  const double per_sender = config.rate / senders;
  const double interval_ns = 1e9 / per_sender;
  pacing.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(interval_ns));
  if (pacing.interval.count() == 0) pacing.interval = std::chrono::nanoseconds(1);
  pacing.first_offset =
      std::chrono::nanoseconds(static_cast<std::int64_t>(interval_ns * index / senders));
  return pacing;
}

void Tally::merge(const Tally& other) {
  sent_in_window += other.sent_in_window;
  delivered_in_window += other.delivered_in_window;
  delivered_total += other.delivered_total;
  duplicates += other.duplicates;
  errors += other.errors;
  latency.merge(other.latency);
}

bool StreamTracker::on_receive(std::uint64_t send_time_ns, std::uint64_t number,
                               std::uint64_t now_ns, const MeasuredWindow& window, Tally& tally) {
  if (seen_any_ && number <= last_number_) {
    ++tally.duplicates;
    return false;
  }
  seen_any_ = true;
  last_number_ = number;
  ++tally.delivered_total;
  if (window.contains(send_time_ns)) {
    ++tally.delivered_in_window;
    tally.latency.record(now_ns >= send_time_ns ? now_ns - send_time_ns : 0);
  }
  return true;
}

}  // namespace parley::load
