// SPDX-License-Identifier: AGPL-3.0-or-later
#include "link_codes.h"

namespace parley::server {

Result<std::string> LinkCodes::create(const store::AccountId& account,
                                      std::chrono::milliseconds ttl) {
  const MonotonicTime expires = clock_.monotonic_now() + ttl;
  for (;;) {
    std::string code = make_link_code();
    std::lock_guard lock(mutex_);
    if (by_code_.contains(code)) continue;  // 2^-80: practically never
    if (auto old = by_account_.find(account); old != by_account_.end()) {
      by_code_.erase(old->second);
    }
    by_code_.emplace(code, Entry{account, expires});
    by_account_[account] = code;
    return code;
  }
}

Result<std::optional<store::AccountId>> LinkCodes::take(std::string_view code) {
  const MonotonicTime now = clock_.monotonic_now();
  std::lock_guard lock(mutex_);
  auto it = by_code_.find(code);
  if (it == by_code_.end()) return std::optional<store::AccountId>();
  Entry entry = it->second;
  by_code_.erase(it);
  by_account_.erase(entry.account);
  if (now >= entry.expires) return std::optional<store::AccountId>();
  return std::optional<store::AccountId>(entry.account);
}

Status LinkCodes::erase_account(const store::AccountId& account) {
  std::lock_guard lock(mutex_);
  if (auto it = by_account_.find(account); it != by_account_.end()) {
    by_code_.erase(it->second);
    by_account_.erase(it);
  }
  return Status();
}

std::size_t LinkCodes::purge_expired() {
  const MonotonicTime now = clock_.monotonic_now();
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

std::size_t LinkCodes::size() const {
  std::lock_guard lock(mutex_);
  return by_code_.size();
}

}  // namespace parley::server
