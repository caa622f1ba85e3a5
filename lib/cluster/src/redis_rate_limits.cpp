// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/cluster/redis_rate_limits.h"

#include <algorithm>

#include "parley/redis/keys.h"
#include "parley/redis/rate_limit.h"

namespace parley::cluster {

RedisRateLimits::RedisRateLimits(redis::RedisCluster& cluster) : cluster_(cluster) {}

Result<server::RateLimiter::Decision> RedisRateLimits::acquire(std::string_view name,
                                                               const server::RateLimit& limit,
                                                               std::string_view key,
                                                               std::uint64_t cost) {
  // Like RateLimiter: a disabled limit allows everything (and needs no round trip).
  if (!limit.enabled()) return server::RateLimiter::Decision{};
  redis::RedisTokenBucket bucket(cluster_, static_cast<double>(limit.count),
                                 std::chrono::milliseconds(limit.period));
  auto decision =
      bucket.acquire(redis::rate_limit_key(as_bytes(key), name), static_cast<double>(cost));
  if (!decision.ok()) {
    ++errors_;
    return decision.status();
  }
  if (decision->allowed) {
    ++taken_;
    return server::RateLimiter::Decision{};
  }
  ++refused_;
  // Whole seconds, rounded up, at least one: what RateLimiter answers.
  const std::int64_t ms = decision->retry_after.count();
  const std::int64_t seconds = std::max<std::int64_t>(1, (ms + 999) / 1000);
  return server::RateLimiter::Decision{false, std::chrono::seconds(seconds)};
}

RedisRateLimitsStats RedisRateLimits::stats() const {
  RedisRateLimitsStats s;
  s.taken = taken_.load();
  s.refused = refused_.load();
  s.errors = errors_.load();
  return s;
}

}  // namespace parley::cluster
