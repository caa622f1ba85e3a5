// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// SharedRateLimits: the abuse limits' token buckets kept outside the node, so that every parleyd
// node of a cluster counts against the same bucket (cluster mode, issue 8). Passed as
// ServerCoreConfig::shared_rate_limits; nullptr (the default) counts per node only.
//
// Which limits are shared: those checked inside a request, keyed by account, account pair or
// address group (sign-ups per IP, prekey fetches, sends, attachments). The per-IP connection
// limits stay per node: they are checked at accept on a gateway thread, which must not wait for
// the network, and a connection flood is each node's own load anyway.
//
// Failure: when the shared state cannot be reached, acquire() answers an error and the core falls
// back to its own per-node RateLimiter for that request (counted in
// parley_shared_rate_limit_errors_total). Failing open to the per-node limit keeps users served
// while Redis fails over; failing closed would turn a Redis outage into a messaging outage.

#include <cstdint>
#include <string_view>

#include "parley/server/rate_limiter.h"
#include "parley/util/status.h"

namespace parley::server {

class SharedRateLimits {
 public:
  virtual ~SharedRateLimits() = default;

  // Takes `cost` tokens from the bucket of `key` under the limit named `name` (the metric label,
  // e.g. "sends_per_account"; buckets of different names never mix). `limit` gives the burst and
  // the refill, and must be enabled(). The decision follows RateLimiter::acquire exactly,
  // including its rule for a cost above the whole burst and a retry_after of at least one second.
  // `key` is binary (ip_limit_key, account ids) and never logged. An error (kUnavailable,
  // kTimeout) when the shared state cannot be reached. Called from the core's worker threads,
  // which already block on the store: it may block on the network.
  virtual Result<RateLimiter::Decision> acquire(std::string_view name, const RateLimit& limit,
                                                std::string_view key, std::uint64_t cost) = 0;
};

}  // namespace parley::server
