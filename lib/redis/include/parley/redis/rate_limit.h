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

#include <cstdint>
#include <string_view>

#include "parley/redis/cluster_client.h"
#include "parley/util/status.h"

namespace parley::redis {

class RedisTokenBucket {
 public:
  // `capacity` tokens at most (and at first); `refill_per_second` tokens come back per second.
  RedisTokenBucket(RedisCluster& cluster, double capacity, double refill_per_second);

  // Takes `cost` tokens from the bucket named `bucket_key` (a Redis key, e.g.
  // "rl:{<account>}:send") if it holds that many: true when taken, false when refused (nothing is
  // taken then). kInvalidArgument for cost <= 0; kUnavailable when Redis cannot be reached — the
  // caller chooses whether to fail open or closed.
  Result<bool> take(std::string_view bucket_key, double cost = 1);

 private:
  RedisCluster& cluster_;
  const double capacity_;
  const double refill_per_second_;
};

}  // namespace parley::redis
