// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The in-memory LinkCodeRegistry of a single node (the core's own when
// ServerCoreConfig::link_codes is null). Codes live minutes, and a restart simply makes the user
// ask for a new one. At most one live code per account, so memory is bounded by the number of
// accounts linking at the same moment; purge_expired() (maintenance) drops codes nobody took.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "parley/server/link_code_registry.h"
#include "parley/store/records.h"
#include "parley/util/clock.h"

namespace parley::server {

class LinkCodes final : public LinkCodeRegistry {
 public:
  // Expiry on `clock`'s monotonic time; `clock` must outlive the registry.
  explicit LinkCodes(const Clock& clock) : clock_(clock) {}

  // Never fail: the registry is in this process.
  Result<std::string> create(const store::AccountId& account,
                             std::chrono::milliseconds ttl) override;
  Result<std::optional<store::AccountId>> take(std::string_view code) override;
  Status erase_account(const store::AccountId& account) override;

  // Drops expired codes; returns how many.
  std::size_t purge_expired();
  // Live and expired codes not yet taken or purged.
  std::size_t size() const;

 private:
  struct Entry {
    store::AccountId account;
    MonotonicTime expires;
  };
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> by_code_;
  std::map<store::AccountId, std::string> by_account_;
};

}  // namespace parley::server
