// SPDX-License-Identifier: AGPL-3.0-or-later
#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace parley::load {
namespace {

constexpr std::uint64_t kSubBuckets = 1u << LatencyHistogram::kSubBucketBits;

}  // namespace

// Values below 64 map one to one onto the first 64 slots. Above that, a value whose highest set
// bit is b (b ≥ 6) lands in magnitude b - 5, sub-bucket = its next 6 bits: the bucket width is
// 2^(b-6), i.e. at most 1/64 of the value.
std::size_t LatencyHistogram::index_of(std::uint64_t value) {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  const int top_bit = 63 - std::countl_zero(value);
  const int shift = top_bit - kSubBucketBits;
  const std::uint64_t sub = (value >> shift) & (kSubBuckets - 1);
  return static_cast<std::size_t>(shift + 1) * kSubBuckets + sub;
}

std::uint64_t LatencyHistogram::upper_edge(std::size_t index) {
  const std::uint64_t magnitude = index / kSubBuckets;
  const std::uint64_t sub = index % kSubBuckets;
  if (magnitude == 0) return sub;
  const int shift = static_cast<int>(magnitude) - 1;
  const std::uint64_t low = (kSubBuckets + sub) << shift;
  const std::uint64_t width = std::uint64_t{1} << shift;
  return low + (width - 1);  // the largest value that maps to this bucket
}

void LatencyHistogram::record(std::uint64_t nanoseconds) {
  ++counts_[index_of(nanoseconds)];
  ++count_;
  min_ = std::min(min_, nanoseconds);
  max_ = std::max(max_, nanoseconds);
  sum_ += static_cast<long double>(nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

std::uint64_t LatencyHistogram::percentile(double percentile) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percentile, 0.0, 100.0);
  // The rank of the sample at this percentile, 1-based: p99.9 of 1000 samples is the 999th.
  auto rank = static_cast<std::uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper_edge(i), max_);
  }
  return max_;
}

}  // namespace parley::load
