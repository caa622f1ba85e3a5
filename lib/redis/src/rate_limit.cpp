// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/rate_limit.h"

#include <cstdio>
#include <string>

namespace parley::redis {
namespace {

// KEYS[1]: the bucket hash. ARGV: capacity, refill per second, cost. Returns 1 taken, 0 refused.
const LuaScript& script() {
  static const LuaScript kScript(R"lua(
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
if now > last then
  tokens = math.min(capacity, tokens + (now - last) * rate / 1000)
  last = now
end
local taken = 0
if tokens >= cost then
  tokens = tokens - cost
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ms', string.format('%d', last))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / rate) + 1000)
return taken
)lua");
  return kScript;
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

}  // namespace

RedisTokenBucket::RedisTokenBucket(RedisCluster& cluster, double capacity, double refill_per_second)
    : cluster_(cluster), capacity_(capacity), refill_per_second_(refill_per_second) {}

Result<bool> RedisTokenBucket::take(std::string_view bucket_key, double cost) {
  if (!(cost > 0) || !(capacity_ > 0) || !(refill_per_second_ > 0)) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "token bucket capacity, refill rate and cost must be positive");
  }
  PARLEY_ASSIGN_OR_RETURN(
      RedisValue reply,
      cluster_.eval(script(), {std::string(bucket_key)},
                    {number(capacity_), number(refill_per_second_), number(cost)}));
  if (reply.is_error()) return reply.error_status("EVALSHA (token bucket)");
  if (!reply.is_integer()) {
    return Status::error(ErrorCode::kMalformedInput, "unexpected token bucket reply");
  }
  return reply.as_integer() == 1;
}

}  // namespace parley::redis
