// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Abuse limits: a token bucket per key (an IP address group, an account, a pair of accounts) in a
// table of bounded size, and a counter of concurrent connections per IP address group.
//
// The table never grows past `max_keys`: an attacker who sprays source addresses (or any other
// key) only pushes out the least recently used buckets. Buckets that have refilled completely are
// dropped first, since forgetting them changes nothing. Time comes from the injected Clock
// (monotonic), so tests use a FakeClock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "parley/util/clock.h"

namespace parley::server {

// `count` events (or bytes) per `period`: a bucket holds at most `count` tokens (the burst) and
// refills at count/period. A count of 0 disables the limit.
struct RateLimit {
  std::uint64_t count = 0;
  std::chrono::seconds period{60};

  bool enabled() const { return count > 0 && period.count() > 0; }
};

// "600 per minute", "30 per hour", "1073741824 per 3600 seconds": for refusal messages and logs.
std::string describe_rate(const RateLimit& limit);

class RateLimiter {
 public:
  // `max_keys` >= 1 (0 is taken as 1).
  RateLimiter(RateLimit limit, std::size_t max_keys, const Clock& clock);

  struct Decision {
    bool allowed = true;
    // When refused: how long until `cost` tokens are there again (at least one second).
    std::chrono::seconds retry_after{0};
  };

  // Takes `cost` tokens from `key`'s bucket if it has them; a disabled limit always allows. A
  // cost above the whole burst is allowed only from a full bucket, which then owes the rest (so
  // one oversize request waits for a full period, never forever).
  Decision acquire(std::string_view key, std::uint64_t cost = 1);

  // Buckets held now, and buckets pushed out while not yet refilled (table full).
  std::size_t size() const;
  std::uint64_t evictions() const;
  const RateLimit& limit() const { return limit_; }

 private:
  struct Bucket {
    double tokens = 0;
    MonotonicTime updated;
    std::list<std::string>::iterator lru;  // position in lru_
  };

  double refilled(const Bucket& bucket, MonotonicTime now) const;
  void drop_idle(MonotonicTime now);

  const RateLimit limit_;
  const std::size_t max_keys_;
  const Clock& clock_;
  const double capacity_;
  const double period_seconds_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::list<std::string> lru_;  // most recently used first
  std::uint64_t evictions_ = 0;
};

// Open connections per key, for a limit on concurrent connections. Entries exist only while their
// count is above zero, so the table is bounded by the open connections themselves.
class ConcurrencyCounter {
 public:
  // Counts one more connection for `key` unless it already has `max` (0: no limit). True when
  // counted; every true must be matched by one release().
  bool try_add(const std::string& key, std::uint32_t max);
  void release(const std::string& key);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::uint32_t> open_;
};

// The key that per-IP limits count under, for the peer's address as text ("203.0.113.7",
// "2001:db8::1", "::ffff:203.0.113.7", with or without a "%scope"). IPv4 addresses count alone;
// IPv6 addresses count by their /64 prefix (one subscriber usually holds a whole /64, so counting
// single addresses would let one host rotate through 2^64 of them); IPv4-mapped IPv6 addresses
// count as their IPv4 address. Empty (no per-IP limit applies) for an empty or unparsable address.
// The key is binary and never logged.
std::string ip_limit_key(std::string_view address);

}  // namespace parley::server
