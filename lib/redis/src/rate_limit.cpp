// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace parley::redis {
namespace {

// KEYS[1]: the bucket hash. ARGV: capacity, refill tokens, per refill milliseconds, cost.
// Returns {1, 0} when taken, {0, milliseconds until the bucket holds what the cost needs} when
// refused.
const LuaScript& script() {
  static const LuaScript kScript(R"lua(
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local per_ms = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
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
  tokens = math.min(capacity, tokens + (now - last) * refill / per_ms)
  last = now
end
local needed = math.min(cost, capacity)
local taken = 0
local wait = 0
if tokens >= needed then
  tokens = tokens - cost
  taken = 1
else
  wait = math.max(1, math.ceil((needed - tokens) * per_ms / refill))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ms', string.format('%d', last))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((capacity - tokens) * per_ms / refill) + 1000))
return {taken, wait}
)lua");
  return kScript;
}

// Round-trips a double exactly (a refill of 30 per hour is 0.008333…/s; six decimals would
// lose 0.004% of it).
std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

}  // namespace

RedisTokenBucket::RedisTokenBucket(RedisCluster& cluster, double capacity, double refill_per_second)
    : cluster_(cluster), capacity_(capacity), refill_tokens_(refill_per_second), refill_ms_(1000) {}

RedisTokenBucket::RedisTokenBucket(RedisCluster& cluster, double capacity,
                                   std::chrono::milliseconds period)
    : cluster_(cluster),
      capacity_(capacity),
      refill_tokens_(capacity),
      refill_ms_(static_cast<double>(period.count())) {}

Result<RedisTokenBucket::Decision> RedisTokenBucket::acquire(std::string_view bucket_key,
                                                             double cost) {
  if (!std::isfinite(cost) || cost < 0 || !std::isfinite(capacity_) || !(capacity_ > 0) ||
      !std::isfinite(refill_tokens_) || !(refill_tokens_ > 0) || !std::isfinite(refill_ms_) ||
      !(refill_ms_ > 0)) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "token bucket capacity and refill rate must be positive, cost not "
                         "negative");
  }
  PARLEY_ASSIGN_OR_RETURN(
      RedisValue reply,
      cluster_.eval(script(), {std::string(bucket_key)},
                    {number(capacity_), number(refill_tokens_), number(refill_ms_), number(cost)}));
  if (reply.is_error()) return reply.error_status("EVALSHA (token bucket)");
  const auto& fields = reply.elements();
  if (!reply.is_array() || fields.size() != 2 || !fields[0].is_integer() ||
      !fields[1].is_integer() || fields[1].as_integer() < 0) {
    return Status::error(ErrorCode::kMalformedInput, "unexpected token bucket reply");
  }
  if (fields[0].as_integer() == 1) return Decision{};
  return Decision{false,
                  std::chrono::milliseconds(std::max<std::int64_t>(fields[1].as_integer(), 1))};
}

Result<bool> RedisTokenBucket::take(std::string_view bucket_key, double cost) {
  PARLEY_ASSIGN_OR_RETURN(Decision decision, acquire(bucket_key, cost));
  return decision.allowed;
}

}  // namespace parley::redis
