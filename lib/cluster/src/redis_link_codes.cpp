// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/cluster/redis_link_codes.h"

#include <algorithm>

#include "parley/redis/keys.h"
#include "parley/util/encoding.h"

namespace parley::cluster {
namespace {

// A fresh code collides with a live one with probability 2^-80 per live code; a few tries only
// guard against a server that keeps answering "exists".
constexpr int kCreateAttempts = 4;

Status malformed(std::string_view what) {
  return Status::error(ErrorCode::kMalformedInput,
                       "unexpected reply from the link code registry (" + std::string(what) + ")");
}

// The account id stored under "lc:<code>": exactly the hex of kAccountIdSize bytes.
Result<store::AccountId> parse_account(const std::string& text) {
  if (text.size() != 2 * store::kAccountIdSize) return malformed("account id");
  auto bytes = hex_decode(text);
  if (!bytes.ok()) return malformed("account id");
  auto account = store::account_id_from_bytes(*bytes);
  if (!account.ok()) return malformed("account id");
  return *account;
}

// Runs one command, turning a Redis error reply into a Status (without its text).
Result<redis::RedisValue> run(redis::RedisCluster& cluster, const std::string& key,
                              const redis::Args& argv, std::string_view what) {
  PARLEY_ASSIGN_OR_RETURN(redis::RedisValue reply, cluster.command(key, argv));
  if (reply.is_error()) return reply.error_status(what);
  return reply;
}

}  // namespace

bool is_link_code(std::string_view code) {
  return code.size() == server::kLinkCodeLength &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return server::kLinkCodeAlphabet.find(c) != std::string_view::npos;
         });
}

RedisLinkCodes::RedisLinkCodes(redis::RedisCluster& cluster) : cluster_(cluster) {}

Result<std::string> RedisLinkCodes::create(const store::AccountId& account,
                                           std::chrono::milliseconds ttl) {
  auto code = create_unchecked(account, ttl);
  if (code.ok()) {
    ++created_;
  } else {
    ++errors_;
  }
  return code;
}

Result<std::string> RedisLinkCodes::create_unchecked(const store::AccountId& account,
                                                     std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) {
    return Status::error(ErrorCode::kInvalidArgument, "link code lifetime must be positive");
  }
  const std::string account_hex = hex_encode(account);
  const std::string px = std::to_string(ttl.count());

  std::string code;
  for (int attempt = 0;; ++attempt) {
    if (attempt == kCreateAttempts) {
      return Status::error(ErrorCode::kInternal, "no unused link code found");
    }
    code = server::make_link_code();
    const std::string key = redis::link_code_key(code);
    PARLEY_ASSIGN_OR_RETURN(
        redis::RedisValue set,
        run(cluster_, key, {"SET", key, account_hex, "PX", px, "NX"}, "SET (link code)"));
    if (set.is_status()) break;                  // "OK": the code is ours
    if (!set.is_nil()) return malformed("SET");  // nil: taken, try another
  }

  // Make it the account's code, and retire the one it replaces.
  const std::string account_key = redis::link_code_account_key(account);
  PARLEY_ASSIGN_OR_RETURN(redis::RedisValue previous,
                          run(cluster_, account_key, {"SET", account_key, code, "PX", px, "GET"},
                              "SET GET (link code)"));
  if (previous.is_nil()) return code;
  if (!previous.is_string() || !is_link_code(previous.text())) return malformed("previous code");
  if (previous.text() != code) {
    const std::string old_key = redis::link_code_key(previous.text());
    PARLEY_RETURN_IF_ERROR(run(cluster_, old_key, {"DEL", old_key}, "DEL (link code)").status());
  }
  return code;
}

Result<std::optional<store::AccountId>> RedisLinkCodes::take(std::string_view code) {
  auto account = take_unchecked(code);
  if (!account.ok()) {
    ++errors_;
  } else if (account->has_value()) {
    ++taken_;
  } else {
    ++unknown_;
  }
  return account;
}

Result<std::optional<store::AccountId>> RedisLinkCodes::take_unchecked(std::string_view code) {
  // Not a code this registry could have made: unknown, and no key built from client input.
  if (!is_link_code(code)) return std::optional<store::AccountId>();
  const std::string key = redis::link_code_key(code);
  PARLEY_ASSIGN_OR_RETURN(redis::RedisValue value,
                          run(cluster_, key, {"GETDEL", key}, "GETDEL (link code)"));
  if (value.is_nil()) return std::optional<store::AccountId>();  // used, replaced or expired
  if (!value.is_string()) return malformed("GETDEL");
  PARLEY_ASSIGN_OR_RETURN(store::AccountId account, parse_account(value.text()));
  return std::optional<store::AccountId>(account);
}

Status RedisLinkCodes::erase_account(const store::AccountId& account) {
  Status erased = erase_account_unchecked(account);
  if (!erased.ok()) ++errors_;
  return erased;
}

Status RedisLinkCodes::erase_account_unchecked(const store::AccountId& account) {
  const std::string account_key = redis::link_code_account_key(account);
  PARLEY_ASSIGN_OR_RETURN(
      redis::RedisValue code,
      run(cluster_, account_key, {"GETDEL", account_key}, "GETDEL (link code)"));
  if (code.is_nil()) return Status();
  if (!code.is_string() || !is_link_code(code.text())) return malformed("account's code");
  const std::string key = redis::link_code_key(code.text());
  return run(cluster_, key, {"DEL", key}, "DEL (link code)").status();
}

RedisLinkCodesStats RedisLinkCodes::stats() const {
  RedisLinkCodesStats s;
  s.created = created_.load();
  s.taken = taken_.load();
  s.unknown = unknown_.load();
  s.errors = errors_.load();
  return s;
}

}  // namespace parley::cluster
