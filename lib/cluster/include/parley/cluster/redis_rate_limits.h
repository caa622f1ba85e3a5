// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RedisRateLimits: the core's SharedRateLimits (lib/server/shared_rate_limits.h) over Redis
// Cluster, so every parleyd node counts against the same buckets.
//
// Each (limit name, key) is one redis::RedisTokenBucket at redis::rate_limit_key(key, name),
// "rl:{<key hex>}:<name>": capacity = limit.count, all refilled over limit.period, time from the
// Redis master's clock. The bucket follows the per-node RateLimiter's rules exactly (an oversize
// cost from a full bucket only, which then owes the rest); its wait in milliseconds becomes the
// Decision's retry_after in whole seconds, rounded up, at least one.
//
// Failure: an unreachable Redis is an error (kUnavailable / kTimeout, after the client's own
// retries), counted in stats().errors; the core then falls back to its per-node limit. A take
// whose reply was lost may be retried by the client and count once more (at-least-once).

#include <atomic>
#include <cstdint>
#include <string_view>

#include "parley/redis/cluster_client.h"
#include "parley/server/shared_rate_limits.h"

namespace parley::cluster {

struct RedisRateLimitsStats {
  std::uint64_t taken = 0;    // allowed
  std::uint64_t refused = 0;  // refused (the request is answered with a retry-after)
  std::uint64_t errors = 0;   // Redis unreachable or an unexpected reply (the core fell back)
};

class RedisRateLimits final : public server::SharedRateLimits {
 public:
  // `cluster` must outlive this object.
  explicit RedisRateLimits(redis::RedisCluster& cluster);

  Result<server::RateLimiter::Decision> acquire(std::string_view name,
                                                const server::RateLimit& limit,
                                                std::string_view key, std::uint64_t cost) override;

  RedisRateLimitsStats stats() const;

 private:
  redis::RedisCluster& cluster_;
  std::atomic<std::uint64_t> taken_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> errors_{0};
};

}  // namespace parley::cluster
