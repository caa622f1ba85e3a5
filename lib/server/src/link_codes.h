// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// One-time device-link codes, kept in memory only: they live minutes, and a restart simply makes
// the user ask for a new one. At most one live code per account, so memory is bounded by the
// number of accounts linking at the same moment.

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "parley/store/records.h"
#include "parley/util/clock.h"

namespace parley::server {

class LinkCodes {
 public:
  // A fresh 16-character code (80 random bits) for `account`, replacing its previous code.
  std::string create(const store::AccountId& account, MonotonicTime expires);

  // Removes the code and returns its account if it existed and had not expired. Single use: a
  // code is gone after the first attempt, whatever happens next.
  std::optional<store::AccountId> take(const std::string& code, MonotonicTime now);

  void erase_account(const store::AccountId& account);
  std::size_t purge_expired(MonotonicTime now);

 private:
  struct Entry {
    store::AccountId account;
    MonotonicTime expires;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> by_code_;
  std::map<store::AccountId, std::string> by_account_;
};

}  // namespace parley::server
