// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A latency histogram in the HDR style: values (nanoseconds) go into log-linear buckets (each
// power of two split into 64 linear sub-buckets), so any percentile is exact to within 1/64
// (≈ 1.6 %) of its value at a fixed memory cost, whatever the count. One per event-loop thread,
// merged at the end: recording takes no lock.

#include <array>
#include <cstdint>

namespace parley::load {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 6;  // 64 sub-buckets per power of two
  static constexpr int kMagnitudes = 64 - kSubBucketBits + 1;

  void record(std::uint64_t nanoseconds);
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  double mean() const;
  // The smallest recorded bucket value at or above `percentile` (0–100) of the samples, reported
  // as the upper edge of its bucket (never below the true value). 0 when empty.
  std::uint64_t percentile(double percentile) const;

 private:
  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t upper_edge(std::size_t index);

  std::array<std::uint64_t, kMagnitudes*(1u << kSubBucketBits)> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace parley::load
