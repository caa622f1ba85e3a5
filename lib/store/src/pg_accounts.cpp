// SPDX-License-Identifier: AGPL-3.0-or-later
// PgStore: accounts, their unique indexes (UNIQUE constraints) and devices.

#include "pg_impl.h"
#include "validation.h"

namespace parley::store {
namespace {

using pg::bin;
using pg::Session;
using pg::Statement;

#define PARLEY_ACCOUNT_COLUMNS "id, identity_key, username, created_ms, signed_device_list"
#define PARLEY_DEVICE_COLUMNS \
  "account_id, device_id, public_key, registration_id, created_ms, last_seen_ms"

const Statement kAccountById{"account_by_id",
                             "SELECT " PARLEY_ACCOUNT_COLUMNS " FROM accounts WHERE id = $1"};
const Statement kAccountByUsername{
    "account_by_username", "SELECT " PARLEY_ACCOUNT_COLUMNS " FROM accounts WHERE username = $1"};
const Statement kAccountByIdentityKey{"account_by_identity_key",
                                      "SELECT " PARLEY_ACCOUNT_COLUMNS
                                      " FROM accounts WHERE identity_key = $1"};
const Statement kLockAccount{"lock_account",
                             "SELECT username FROM accounts WHERE id = $1 FOR UPDATE"};
const Statement kInsertAccount{"insert_account", "INSERT INTO accounts (" PARLEY_ACCOUNT_COLUMNS
                                                 ") VALUES ($1, $2, $3, $4, $5)"};
const Statement kSetUsername{"set_username", "UPDATE accounts SET username = $2 WHERE id = $1"};
const Statement kSetDeviceList{"set_device_list",
                               "UPDATE accounts SET signed_device_list = $2 WHERE id = $1"};
const Statement kDeleteAccount{"delete_account", "DELETE FROM accounts WHERE id = $1"};

const Statement kDeviceByAddress{"device_by_address",
                                 "SELECT " PARLEY_DEVICE_COLUMNS
                                 " FROM devices WHERE account_id = $1 AND device_id = $2"};
const Statement kLockDevice{
    "lock_device", "SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2 FOR UPDATE"};
const Statement kLockDevicesOfAccount{"lock_devices_of_account",
                                      "SELECT 1 FROM devices WHERE account_id = $1 FOR UPDATE"};
const Statement kDevicesOfAccount{"devices_of_account",
                                  "SELECT " PARLEY_DEVICE_COLUMNS
                                  " FROM devices WHERE account_id = $1 ORDER BY device_id"};
const Statement kCountDevices{"count_devices",
                              "SELECT count(*) FROM devices WHERE account_id = $1"};
const Statement kInsertDevice{"insert_device", "INSERT INTO devices (" PARLEY_DEVICE_COLUMNS
                                               ") VALUES ($1, $2, $3, $4, $5, $6)"};
const Statement kTouchDevice{
    "touch_device",
    "UPDATE devices SET last_seen_ms = $3 WHERE account_id = $1 AND device_id = $2"};
const Statement kDeleteDevice{"delete_device",
                              "DELETE FROM devices WHERE account_id = $1 AND device_id = $2"};

Status no_account() {
  return Status::error(ErrorCode::kNotFound, "no such account");
}

Account account_of(const pqxx::row& row) {
  Account account;
  account.id = pg::account_id_of(row[0]);
  account.identity_key = pg::bytes_of(row[1]);
  if (!row[2].is_null()) account.username = row[2].as<std::string>();
  account.created_ms = row[3].as<std::int64_t>();
  account.signed_device_list = pg::bytes_of(row[4]);
  return account;
}

Device device_of(const pqxx::row& row) {
  Device device;
  device.account_id = pg::account_id_of(row[0]);
  device.device_id = row[1].as<DeviceId>();
  device.public_key = pg::bytes_of(row[2]);
  device.registration_id = row[3].as<std::uint32_t>();
  device.created_ms = row[4].as<std::int64_t>();
  device.last_seen_ms = row[5].as<std::int64_t>();
  return device;
}

// Reads one account by a unique column; kNotFound when there is none.
template <typename Key>
Result<Account> find_account(const pg::Pool& pool, const Statement& statement, const Key& key) {
  Account account;
  PARLEY_RETURN_IF_ERROR(pool.run([&](Session& db) {
    pqxx::result rows = db.exec(statement, key);
    if (rows.empty()) return no_account();
    account = account_of(rows[0]);
    return Status{};
  }));
  return account;
}

}  // namespace

// ---- Accounts ----------------------------------------------------------------------------------

Status PgStore::create_account(const Account& account) {
  PARLEY_RETURN_IF_ERROR(validate_new_account(account));
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    // Checked first to say which value is taken; the UNIQUE constraints still decide a race
    // (mapped to kAlreadyExists by the pool).
    if (!db.exec(kAccountById, bin(account.id)).empty()) {
      return Status::error(ErrorCode::kAlreadyExists, "account id exists");
    }
    if (!db.exec(kAccountByIdentityKey, bin(account.identity_key)).empty()) {
      return Status::error(ErrorCode::kAlreadyExists, "identity key is registered");
    }
    if (account.username && !db.exec(kAccountByUsername, *account.username).empty()) {
      return Status::error(ErrorCode::kAlreadyExists, "username is taken");
    }
    if (account.username) {
      db.exec(kInsertAccount, bin(account.id), bin(account.identity_key), *account.username,
              account.created_ms, bin(account.signed_device_list));
    } else {
      db.exec(kInsertAccount, bin(account.id), bin(account.identity_key), nullptr,
              account.created_ms, bin(account.signed_device_list));
    }
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Result<Account> PgStore::get_account(const AccountId& id) const {
  return find_account(impl_->pool, kAccountById, bin(id));
}

Result<Account> PgStore::find_account_by_username(std::string_view username) const {
  return find_account(impl_->pool, kAccountByUsername, std::string(username));
}

Result<Account> PgStore::find_account_by_identity_key(ByteView identity_key) const {
  return find_account(impl_->pool, kAccountByIdentityKey, bin(identity_key));
}

Status PgStore::set_username(const AccountId& id, std::optional<std::string_view> username) {
  if (username) PARLEY_RETURN_IF_ERROR(validate_username(*username));
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    if (db.exec(kLockAccount, bin(id)).empty()) return no_account();
    if (!username) {
      db.exec(kSetUsername, bin(id), nullptr);
      return Status{};
    }
    pqxx::result holder = db.exec(kAccountByUsername, std::string(*username));
    if (!holder.empty() && pg::account_id_of(holder[0][0]) != id) {
      return Status::error(ErrorCode::kAlreadyExists, "username is taken");
    }
    db.exec(kSetUsername, bin(id), std::string(*username));
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Status PgStore::set_signed_device_list(const AccountId& id, ByteView signed_device_list) {
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    if (db.exec(kSetDeviceList, bin(id), bin(signed_device_list)).affected_rows() == 0) {
      return no_account();
    }
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Status PgStore::delete_account(const AccountId& id) {
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    if (db.exec(kLockAccount, bin(id)).empty()) return no_account();
    // Device rows are locked too: appends lock them, so none can add an entry after the release.
    db.exec(kLockDevicesOfAccount, bin(id));
    // Mailbox entries go first, releasing their shared payloads; the cascade then removes the
    // devices and their keys.
    pg::delete_entries(db, pg::kDeleteAccountEntries, bin(id));
    db.exec(kDeleteAccount, bin(id));
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

// ---- Devices -----------------------------------------------------------------------------------

Status PgStore::add_device(const Device& device, std::uint32_t max_devices) {
  PARLEY_RETURN_IF_ERROR(validate_new_device(device));
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    // The account row lock serializes concurrent adds, so the count check cannot be overtaken.
    if (db.exec(kLockAccount, bin(device.account_id)).empty()) return no_account();
    if (!db.exec(kDeviceByAddress, bin(device.account_id), std::int64_t{device.device_id})
             .empty()) {
      return Status::error(ErrorCode::kAlreadyExists, "device id is taken");
    }
    auto count = db.exec(kCountDevices, bin(device.account_id)).at(0)[0].as<std::uint64_t>();
    if (count >= max_devices) {
      return Status::error(ErrorCode::kResourceExhausted, "account has its maximum of devices");
    }
    db.exec(kInsertDevice, bin(device.account_id), std::int64_t{device.device_id},
            bin(device.public_key), std::int64_t{device.registration_id}, device.created_ms,
            device.last_seen_ms);
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Result<Device> PgStore::get_device(const DeviceAddress& address) const {
  Device device;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    pqxx::result rows =
        db.exec(kDeviceByAddress, bin(address.account_id), std::int64_t{address.device_id});
    if (rows.empty()) return unknown_device_error(address);
    device = device_of(rows[0]);
    return Status{};
  }));
  return device;
}

Result<std::vector<Device>> PgStore::list_devices(const AccountId& id) const {
  std::vector<Device> devices;
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    devices.clear();
    if (db.exec(kAccountById, bin(id)).empty()) return no_account();
    for (const pqxx::row& row : db.exec(kDevicesOfAccount, bin(id))) {
      devices.push_back(device_of(row));
    }
    return Status{};
  }));
  return devices;
}

Status PgStore::touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) {
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    if (db.exec(kTouchDevice, bin(address.account_id), std::int64_t{address.device_id},
                last_seen_ms)
            .affected_rows() == 0) {
      return unknown_device_error(address);
    }
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

Status PgStore::remove_device(const DeviceAddress& address) {
  PARLEY_RETURN_IF_ERROR(impl_->pool.run([&](Session& db) {
    const std::int64_t device_id = address.device_id;
    // Locked first so that no append slips an entry in between the release and the delete.
    if (db.exec(kLockDevice, bin(address.account_id), device_id).empty()) {
      return unknown_device_error(address);
    }
    pg::delete_entries(db, pg::kDeleteDeviceEntries, bin(address.account_id), device_id);
    db.exec(kDeleteDevice, bin(address.account_id), device_id);
    return Status{};
  }));
  ++impl_->mutations;
  return {};
}

}  // namespace parley::store
