// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/server/rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>

namespace parley::server {

std::string describe_rate(const RateLimit& limit) {
  const auto seconds = limit.period.count();
  std::string count = std::to_string(limit.count);
  if (seconds == 60) return count + " per minute";
  if (seconds == 3600) return count + " per hour";
  if (seconds == 86400) return count + " per day";
  if (seconds == 1) return count + " per second";
  return count + " per " + std::to_string(seconds) + " seconds";
}

RateLimiter::RateLimiter(RateLimit limit, std::size_t max_keys, const Clock& clock)
    : limit_(limit),
      max_keys_(std::max<std::size_t>(max_keys, 1)),
      clock_(clock),
      capacity_(static_cast<double>(limit.count)),
      period_seconds_(static_cast<double>(limit.period.count())) {}

double RateLimiter::refilled(const Bucket& bucket, MonotonicTime now) const {
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed <= 0) return bucket.tokens;
  // count * elapsed / period rather than a precomputed rate: exact for whole seconds.
  return std::min(capacity_, bucket.tokens + elapsed * capacity_ / period_seconds_);
}

// A bucket that has refilled completely is the same as no bucket: forget the oldest few so an
// idle table shrinks without a timer. Bounded work per call.
void RateLimiter::drop_idle(MonotonicTime now) {
  for (int i = 0; i < 2 && !lru_.empty(); ++i) {
    auto found = buckets_.find(lru_.back());
    if (refilled(found->second, now) < capacity_) return;
    buckets_.erase(found);
    lru_.pop_back();
  }
}

RateLimiter::Decision RateLimiter::acquire(std::string_view key, std::uint64_t cost) {
  if (!limit_.enabled()) return {};
  const MonotonicTime now = clock_.monotonic_now();
  std::lock_guard lock(mutex_);
  drop_idle(now);

  std::string name(key);
  auto found = buckets_.find(name);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      // The least recently used bucket goes, refilled or not: memory stays bounded, and the cost
      // is that its key starts over with a full burst.
      buckets_.erase(lru_.back());
      lru_.pop_back();
      ++evictions_;
    }
    lru_.push_front(name);
    found = buckets_.emplace(std::move(name), Bucket{capacity_, now, lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, found->second.lru);
  }

  Bucket& bucket = found->second;
  bucket.tokens = refilled(bucket, now);
  bucket.updated = now;
  const double wanted = static_cast<double>(cost);
  // An oversize cost needs a full bucket; anything else needs its own tokens.
  const double needed = std::min(wanted, capacity_);
  if (bucket.tokens >= needed) {
    bucket.tokens -= wanted;  // may go below zero for an oversize cost: a debt to refill
    return {};
  }
  const double wait = (needed - bucket.tokens) * period_seconds_ / capacity_;
  const auto seconds = static_cast<std::int64_t>(std::ceil(wait));
  return Decision{false, std::chrono::seconds(std::max<std::int64_t>(seconds, 1))};
}

std::size_t RateLimiter::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

std::uint64_t RateLimiter::evictions() const {
  std::lock_guard lock(mutex_);
  return evictions_;
}

bool ConcurrencyCounter::try_add(const std::string& key, std::uint32_t max) {
  std::lock_guard lock(mutex_);
  std::uint32_t& open = open_[key];
  if (max > 0 && open >= max) {
    if (open == 0) open_.erase(key);
    return false;
  }
  ++open;
  return true;
}

void ConcurrencyCounter::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto found = open_.find(key);
  if (found == open_.end()) return;
  if (--found->second == 0) open_.erase(found);
}

std::size_t ConcurrencyCounter::size() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

std::string ip_limit_key(std::string_view address) {
  std::string text(address.substr(0, address.find('%')));  // a zone ("%eth0") is not an address
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    return std::string("4") + std::string(reinterpret_cast<const char*>(bytes), 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return {};
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(std::begin(kMapped), std::end(kMapped), bytes)) {
    return std::string("4") + std::string(reinterpret_cast<const char*>(bytes + 12), 4);
  }
  return std::string("6") + std::string(reinterpret_cast<const char*>(bytes), 8);  // the /64
}

}  // namespace parley::server
