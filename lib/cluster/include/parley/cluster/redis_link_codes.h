// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// RedisLinkCodes: the core's LinkCodeRegistry (lib/server/link_code_registry.h) over Redis
// Cluster, so a code asked for on one parleyd node can be redeemed on any other.
//
// Two keys per live code (redis::keys.h), both expiring with the code (PX):
// - "lc:<code>" holds the account id in hex. create() sets it with NX (a collision, 2^-80, tries
//   a new code); take() is one GETDEL, so a code is redeemed at most once even when two nodes race
//   for it, and an expired code is simply absent.
// - "lca:{<account hex>}" holds the account's current code. create() swaps in the new code with
//   SET … GET and deletes the previous code's key, so an account has at most one live code;
//   erase_account() takes it with GETDEL and deletes that code. The two keys are in different
//   slots, so this is two commands, not one script: two creates racing for one account leave only
//   the code whose SET … GET ran last, and a crash between them leaves a stray code that expires.
//   take() leaves "lca:" alone (it points at a used code until it expires, which is harmless).
//
// Values read back are checked: an account key that is not 32 hex digits is kMalformedInput,
// never trusted. A code that is not kLinkCodeLength characters of kLinkCodeAlphabet is unknown
// without asking Redis. Errors: kUnavailable / kTimeout when Redis cannot be reached.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parley/redis/cluster_client.h"
#include "parley/server/link_code_registry.h"

namespace parley::cluster {

struct RedisLinkCodesStats {
  std::uint64_t created = 0;
  std::uint64_t taken = 0;    // codes redeemed (returned an account)
  std::uint64_t unknown = 0;  // take() of a code that was malformed, used, replaced or expired
  std::uint64_t errors = 0;   // Redis unreachable or a malformed value
};

class RedisLinkCodes final : public server::LinkCodeRegistry {
 public:
  // `cluster` must outlive this object.
  explicit RedisLinkCodes(redis::RedisCluster& cluster);

  Result<std::string> create(const store::AccountId& account,
                             std::chrono::milliseconds ttl) override;
  Result<std::optional<store::AccountId>> take(std::string_view code) override;
  Status erase_account(const store::AccountId& account) override;

  RedisLinkCodesStats stats() const;

 private:
  Result<std::string> create_unchecked(const store::AccountId& account,
                                       std::chrono::milliseconds ttl);
  Result<std::optional<store::AccountId>> take_unchecked(std::string_view code);
  Status erase_account_unchecked(const store::AccountId& account);

  redis::RedisCluster& cluster_;
  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> taken_{0};
  std::atomic<std::uint64_t> unknown_{0};
  std::atomic<std::uint64_t> errors_{0};
};

// Whether `code` has the shape of a link code (length and alphabet). Exposed for tests.
bool is_link_code(std::string_view code);

}  // namespace parley::cluster
