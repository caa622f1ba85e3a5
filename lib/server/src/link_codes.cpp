// SPDX-License-Identifier: AGPL-3.0-or-later
#include "link_codes.h"

#include "parley/crypto/random.h"

namespace parley::server {
namespace {
// 32 symbols without look-alikes (no l, o, 0, 1): 5 bits each, so no modulo bias.
constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
constexpr std::size_t kCodeLength = 16;
}  // namespace

std::string LinkCodes::create(const store::AccountId& account, MonotonicTime expires) {
  std::string code;
  for (;;) {
    Bytes random = crypto::random_bytes(kCodeLength);
    code.clear();
    for (std::uint8_t b : random) code.push_back(kAlphabet[b & 31]);
    std::lock_guard lock(mutex_);
    if (by_code_.count(code)) continue;  // 2^-80: practically never
    if (auto old = by_account_.find(account); old != by_account_.end()) {
      by_code_.erase(old->second);
    }
    by_code_[code] = Entry{account, expires};
    by_account_[account] = code;
    return code;
  }
}

std::optional<store::AccountId> LinkCodes::take(const std::string& code, MonotonicTime now) {
  std::lock_guard lock(mutex_);
  auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::nullopt;
  Entry entry = it->second;
  by_code_.erase(it);
  by_account_.erase(entry.account);
  if (now >= entry.expires) return std::nullopt;
  return entry.account;
}

void LinkCodes::erase_account(const store::AccountId& account) {
  std::lock_guard lock(mutex_);
  if (auto it = by_account_.find(account); it != by_account_.end()) {
    by_code_.erase(it->second);
    by_account_.erase(it);
  }
}

std::size_t LinkCodes::purge_expired(MonotonicTime now) {
  std::lock_guard lock(mutex_);
  std::size_t purged = 0;
  for (auto it = by_code_.begin(); it != by_code_.end();) {
    if (now >= it->second.expires) {
      by_account_.erase(it->second.account);
      it = by_code_.erase(it);
      ++purged;
    } else {
      ++it;
    }
  }
  return purged;
}

}  // namespace parley::server
