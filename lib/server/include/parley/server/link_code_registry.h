// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// LinkCodeRegistry: where one-time device-link codes live. A single node keeps them in memory
// (the core's own registry); in cluster mode they must be visible to every node, because the new
// device may reach a different node than the primary that asked for the code. Passed as
// ServerCoreConfig::link_codes; nullptr (the default) uses the in-memory registry.
//
// Rules every registry keeps: a code is 16 characters from kLinkCodeAlphabet (80 random bits,
// make_link_code()); at most one live code per account (a new one replaces the old); a code is
// single use (gone after the first take, whatever happens next); an expired code is unknown.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "parley/store/records.h"
#include "parley/util/status.h"

namespace parley::server {

// 32 symbols without look-alikes (no l, o, 0, 1): 5 bits each, so no modulo bias.
inline constexpr std::string_view kLinkCodeAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
inline constexpr std::size_t kLinkCodeLength = 16;

// A fresh random code (crypto::random_bytes).
std::string make_link_code();

class LinkCodeRegistry {
 public:
  virtual ~LinkCodeRegistry() = default;

  // A fresh code for `account`, valid for `ttl`, replacing the account's previous code.
  virtual Result<std::string> create(const store::AccountId& account,
                                     std::chrono::milliseconds ttl) = 0;

  // Removes the code and returns its account; nullopt when it is unknown, used or expired. An
  // error only when the registry cannot be reached.
  virtual Result<std::optional<store::AccountId>> take(std::string_view code) = 0;

  // The account was deleted: its live code (if any) is removed.
  virtual Status erase_account(const store::AccountId& account) = 0;
};

}  // namespace parley::server
