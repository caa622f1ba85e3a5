// SPDX-License-Identifier: AGPL-3.0-or-later
// PgStore: the key directory (signed and one-time prekeys).

#include "pg_impl.h"
#include "validation.h"

namespace parley::store {
namespace {

using pg::bin;
using pg::Session;
using pg::Statement;

const Statement kDeviceExists{"prekeys_device_exists",
                              "SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2"};
// Serializes uploads to one device, so the cap check cannot be overtaken by another upload.
const Statement kLockDevice{
    "prekeys_lock_device",
    "SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2 FOR UPDATE"};
const Statement kUpsertSignedPrekey{
    "upsert_signed_prekey",
    "INSERT INTO signed_prekeys (account_id, device_id, key_id, public_key, signature)"
    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, device_id) DO UPDATE"
    " SET key_id = EXCLUDED.key_id, public_key = EXCLUDED.public_key,"
    " signature = EXCLUDED.signature"};
const Statement kSignedPrekey{"signed_prekey",
                              "SELECT key_id, public_key, signature FROM signed_prekeys"
                              " WHERE account_id = $1 AND device_id = $2"};
// Keys the device holds that the batch ($3: its ids) would not replace.
const Statement kCountKeptPrekeys{
    "count_kept_prekeys",
    "SELECT count(*) FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2"
    " AND key_id <> ALL ($3::bigint[])"};
const Statement kUpsertOneTimePrekeys{
    "upsert_one_time_prekeys",
    "INSERT INTO one_time_prekeys (account_id, device_id, key_id, public_key)"
    " SELECT $1::bytea, $2::bigint, k.id, decode(k.key, 'hex') FROM unnest($3::bigint[], "
    "$4::text[]) AS k(id, key)"
    " ON CONFLICT (account_id, device_id, key_id) DO UPDATE SET public_key = EXCLUDED.public_key"};
// The lowest id not being claimed by someone else right now; SKIP LOCKED lets concurrent claims
// proceed in parallel, each on a different key, instead of queueing on the first one.
const Statement kClaimOneTimePrekey{
    "claim_one_time_prekey",
    "DELETE FROM one_time_prekeys WHERE (account_id, device_id, key_id) = ("
    " SELECT account_id, device_id, key_id FROM one_time_prekeys"
    " WHERE account_id = $1 AND device_id = $2 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING key_id, public_key"};
const Statement kCountOneTimePrekeys{
    "count_one_time_prekeys",
    "SELECT count(*) FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2"};

}  // namespace

Status PgStore::set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) {
  PARLEY_RETURN_IF_ERROR(validate_signed_prekey(prekey));
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    const std::int64_t device_id = address.device_id;
    if (db.exec(kDeviceExists, bin(address.account_id), device_id).empty()) {
      return unknown_device_error(address);
    }
    db.exec(kUpsertSignedPrekey, bin(address.account_id), device_id, std::int64_t{prekey.key_id},
            bin(prekey.public_key), bin(prekey.signature));
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Result<SignedPrekey> PgStore::get_signed_prekey(const DeviceAddress& address) const {
  SignedPrekey prekey;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    const std::int64_t device_id = address.device_id;
    pqxx::result rows = db.exec(kSignedPrekey, bin(address.account_id), device_id);
    if (rows.empty()) {
      if (db.exec(kDeviceExists, bin(address.account_id), device_id).empty()) {
        return unknown_device_error(address);
      }
      return Status::error(ErrorCode::kNotFound, "no signed prekey");
    }
    prekey = {rows[0][0].as<std::uint32_t>(), pg::bytes_of(rows[0][1]), pg::bytes_of(rows[0][2])};
    return Status{};
  }));
  return prekey;
}

Status PgStore::add_one_time_prekeys(const DeviceAddress& address,
                                     std::span<const OneTimePrekey> prekeys,
                                     std::uint32_t max_stored) {
  PARLEY_RETURN_IF_ERROR(validate_one_time_prekeys(prekeys));
  pg::ArrayLiteral ids;
  pg::ArrayLiteral keys;
  for (const OneTimePrekey& prekey : prekeys) {
    ids.add_int(prekey.key_id);
    keys.add_hex(prekey.public_key);
  }
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    const std::int64_t device_id = address.device_id;
    if (db.exec(kLockDevice, bin(address.account_id), device_id).empty()) {
      return unknown_device_error(address);
    }
    auto kept = db.exec(kCountKeptPrekeys, bin(address.account_id), device_id, ids.str())
                    .at(0)[0]
                    .as<std::uint64_t>();
    if (kept + prekeys.size() > max_stored) {
      return Status::error(ErrorCode::kResourceExhausted, "too many one-time prekeys");
    }
    if (!prekeys.empty()) {
      db.exec(kUpsertOneTimePrekeys, bin(address.account_id), device_id, ids.str(), keys.str());
    }
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Result<std::optional<OneTimePrekey>> PgStore::claim_one_time_prekey(const DeviceAddress& address) {
  std::optional<OneTimePrekey> claimed;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    claimed.reset();
    const std::int64_t device_id = address.device_id;
    pqxx::result rows = db.exec(kClaimOneTimePrekey, bin(address.account_id), device_id);
    if (!rows.empty()) {
      claimed = OneTimePrekey{rows[0][0].as<std::uint32_t>(), pg::bytes_of(rows[0][1])};
    } else if (db.exec(kDeviceExists, bin(address.account_id), device_id).empty()) {
      return unknown_device_error(address);
    }
    return Status{};
  }));
  // The commit above made the removal durable before the key leaves this function.
  if (claimed) ++impl_->mutations;
  return claimed;
}

Result<std::uint64_t> PgStore::count_one_time_prekeys(const DeviceAddress& address) const {
  std::uint64_t count = 0;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    const std::int64_t device_id = address.device_id;
    if (db.exec(kDeviceExists, bin(address.account_id), device_id).empty()) {
      return unknown_device_error(address);
    }
    count = db.exec(kCountOneTimePrekeys, bin(address.account_id), device_id)
                .at(0)[0]
                .as<std::uint64_t>();
    return Status{};
  }));
  return count;
}

}  // namespace parley::store
