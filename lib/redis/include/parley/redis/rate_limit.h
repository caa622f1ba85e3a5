// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A token bucket shared by every parleyd node: one Redis hash per bucket, updated by one Lua
// script, so a take is atomic however many nodes race for the same bucket.
//
// The script reads the time from Redis (TIME), not from the caller: every node then sees the same
// clock for a bucket (the clock of the master that holds it), so skew between parleyd machines
// cannot mint or burn tokens. Redis 7 replicates a script's effects, not the script, so TIME is
// allowed in a writing script. After a failover the new master's clock may be behind; the script
// never refills for negative elapsed time, it waits until its clock passes the stored one.
//
// The hash holds the tokens (a decimal number: refill rates below one token per second work) and
// the time of the last update; PEXPIRE drops it once it would be full again, so idle buckets cost
// no memory, and a missing bucket is a full one.
//
// The rules are those of the server's per-node RateLimiter (lib/server/rate_limiter.h), so a
// limit counts the same whether it is kept on one node or in Redis: a cost up to the capacity
// needs that many tokens; a cost above the whole capacity is allowed only from a full bucket,
// which then owes the rest (its tokens go below zero, and it takes that much longer to fill).
// So one oversize request waits for a full refill at most, never forever.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "parley/redis/cluster_client.h"
#include "parley/util/status.h"

namespace parley::redis {

class RedisTokenBucket {
 public:
  // `capacity` tokens at most (and at first); `refill_per_second` tokens come back per second.
  RedisTokenBucket(RedisCluster& cluster, double capacity, double refill_per_second);
  // `capacity` tokens at most, all of which come back over `period`: the server's RateLimit
  // ("count per period"). The script multiplies by count and divides by the period instead of
  // using a rounded rate, so waits come out exact (10 per minute, 16 tokens short: 96 s, not
  // 96.000001 s rounded up to 97).
  RedisTokenBucket(RedisCluster& cluster, double capacity, std::chrono::milliseconds period);

  struct Decision {
    bool allowed = true;
    // When refused: how long until the bucket holds what this cost needs (`cost` tokens, or a
    // full bucket for an oversize cost), by the Redis master's clock, rounded up; at least 1 ms.
    // 0 when allowed.
    std::chrono::milliseconds retry_after{0};
  };

  // Takes `cost` tokens from the bucket named `bucket_key` (a Redis key, e.g.
  // "rl:{<account hex>}:send") under the rules above; nothing is taken when refused. A cost of 0
  // is allowed unless the bucket owes tokens. kInvalidArgument for a negative or non-finite cost
  // or a capacity or refill rate that is not positive; kUnavailable / kTimeout when Redis cannot
  // be reached — the caller chooses whether to fail open or closed.
  Result<Decision> acquire(std::string_view bucket_key, double cost = 1);

  // acquire(...).allowed, for callers that need no wait.
  Result<bool> take(std::string_view bucket_key, double cost = 1);

 private:
  RedisCluster& cluster_;
  const double capacity_;
  // The refill: refill_tokens_ per refill_ms_ milliseconds.
  const double refill_tokens_;
  const double refill_ms_;
};

}  // namespace parley::redis
