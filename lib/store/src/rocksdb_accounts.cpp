// SPDX-License-Identifier: AGPL-3.0-or-later
// RocksDbStore: accounts, their unique indexes (username, identity key) and devices.

#include "rocksdb_impl.h"
#include "rocksdb_keys.h"
#include "validation.h"

namespace parley::store {
namespace {

Status no_account() {
  return Status::error(ErrorCode::kNotFound, "no such account");
}

std::string_view key_of(ByteView bytes) {
  return as_string_view(bytes);
}

// The stripes of an account's unique index entries (username and identity key).
std::vector<std::string_view> index_keys(const Account& account,
                                         std::optional<std::string_view> other_username = {}) {
  std::vector<std::string_view> out{key_of(account.identity_key)};
  if (account.username) out.emplace_back(*account.username);
  if (other_username) out.push_back(*other_username);
  return out;
}

Result<std::optional<Account>> read_account(const RocksDbStore::Impl& impl, const AccountId& id) {
  PARLEY_ASSIGN_OR_RETURN(auto value, impl.get(Cf::kAccounts, keys::account(id)));
  if (!value) return std::optional<Account>();
  PARLEY_ASSIGN_OR_RETURN(Account account, codec::decode_account(id, *value));
  return std::optional<Account>(std::move(account));
}

// Follows an index entry (username or identity key) to its account.
Result<Account> find_by_index(const RocksDbStore::Impl& impl, Cf index, std::string_view key) {
  PARLEY_ASSIGN_OR_RETURN(auto id_value, impl.get(index, key));
  if (!id_value) return no_account();
  PARLEY_ASSIGN_OR_RETURN(AccountId id, codec::decode_account_id(*id_value));
  PARLEY_ASSIGN_OR_RETURN(auto account, read_account(impl, id));
  // The index and the record are written in one batch; a missing record means the account was
  // deleted between our two reads.
  if (!account) return no_account();
  return std::move(*account);
}

// The device addresses of an account, in device id order.
Result<std::vector<DeviceAddress>> device_addresses(const RocksDbStore::Impl& impl,
                                                    const AccountId& id) {
  std::string prefix = keys::account(id);
  std::string end = keys::prefix_end(prefix).value_or(std::string());
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read_options, impl.cf(Cf::kDevices)));
  std::vector<DeviceAddress> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto address = keys::parse_device(it->key().ToStringView());
    if (!address || it->key().size() != keys::kDeviceKeySize) {
      return Status::error(ErrorCode::kStorageCorrupt, "unreadable device key");
    }
    out.push_back(*address);
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "listing devices");
  return out;
}

}  // namespace

// ---- Accounts ----------------------------------------------------------------------------------

Status RocksDbStore::create_account(const Account& account) {
  PARLEY_RETURN_IF_ERROR(validate_new_account(account));
  std::string account_key = keys::account(account.id);
  auto account_lock = impl_->account_locks.lock(account_key);
  auto index_lock = impl_->index_locks.lock(index_keys(account));
  PARLEY_ASSIGN_OR_RETURN(bool id_taken, impl_->exists(Cf::kAccounts, account_key));
  if (id_taken) return Status::error(ErrorCode::kAlreadyExists, "account id exists");
  PARLEY_ASSIGN_OR_RETURN(bool key_taken,
                          impl_->exists(Cf::kIdentityKeys, key_of(account.identity_key)));
  if (key_taken) return Status::error(ErrorCode::kAlreadyExists, "identity key is registered");
  if (account.username) {
    PARLEY_ASSIGN_OR_RETURN(bool name_taken, impl_->exists(Cf::kUsernames, *account.username));
    if (name_taken) return Status::error(ErrorCode::kAlreadyExists, "username is taken");
  }
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(Cf::kAccounts), account_key, codec::encode_account(account));
  batch.Put(impl_->cf(Cf::kIdentityKeys), key_of(account.identity_key), account_key);
  if (account.username) batch.Put(impl_->cf(Cf::kUsernames), *account.username, account_key);
  return impl_->write(batch, "creating account");
}

Result<Account> RocksDbStore::get_account(const AccountId& id) const {
  PARLEY_ASSIGN_OR_RETURN(auto account, read_account(*impl_, id));
  if (!account) return no_account();
  return std::move(*account);
}

Result<Account> RocksDbStore::find_account_by_username(std::string_view username) const {
  return find_by_index(*impl_, Cf::kUsernames, username);
}

Result<Account> RocksDbStore::find_account_by_identity_key(ByteView identity_key) const {
  return find_by_index(*impl_, Cf::kIdentityKeys, key_of(identity_key));
}

Status RocksDbStore::set_username(const AccountId& id, std::optional<std::string_view> username) {
  if (username) PARLEY_RETURN_IF_ERROR(validate_username(*username));
  std::string account_key = keys::account(id);
  auto account_lock = impl_->account_locks.lock(account_key);
  // Under the account lock the account's current name cannot change, so reading it first and then
  // locking both index entries is safe.
  PARLEY_ASSIGN_OR_RETURN(auto account, read_account(*impl_, id));
  if (!account) return no_account();
  auto index_lock = impl_->index_locks.lock(index_keys(*account, username));
  rocksdb::WriteBatch batch;
  if (username) {
    PARLEY_ASSIGN_OR_RETURN(auto holder, impl_->get(Cf::kUsernames, *username));
    if (holder && *holder != account_key) {
      return Status::error(ErrorCode::kAlreadyExists, "username is taken");
    }
  }
  if (account->username) batch.Delete(impl_->cf(Cf::kUsernames), *account->username);
  if (username) {
    batch.Put(impl_->cf(Cf::kUsernames), *username, account_key);
    account->username = std::string(*username);
  } else {
    account->username.reset();
  }
  batch.Put(impl_->cf(Cf::kAccounts), account_key, codec::encode_account(*account));
  return impl_->write(batch, "setting username");
}

Status RocksDbStore::set_signed_device_list(const AccountId& id, ByteView signed_device_list) {
  std::string account_key = keys::account(id);
  auto account_lock = impl_->account_locks.lock(account_key);
  PARLEY_ASSIGN_OR_RETURN(auto account, read_account(*impl_, id));
  if (!account) return no_account();
  account->signed_device_list.assign(signed_device_list.begin(), signed_device_list.end());
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(Cf::kAccounts), account_key, codec::encode_account(*account));
  return impl_->write(batch, "setting device list");
}

Status RocksDbStore::delete_account(const AccountId& id) {
  std::string account_key = keys::account(id);
  auto account_lock = impl_->account_locks.lock(account_key);
  PARLEY_ASSIGN_OR_RETURN(auto account, read_account(*impl_, id));
  if (!account) return no_account();
  auto index_lock = impl_->index_locks.lock(index_keys(*account));
  // Devices cannot be added while we hold the account lock; locking every device keeps appends,
  // prekey uploads and claims off them until they are gone.
  PARLEY_ASSIGN_OR_RETURN(auto addresses, device_addresses(*impl_, id));
  std::vector<std::string> device_keys;
  for (const DeviceAddress& address : addresses) device_keys.push_back(keys::device(address));
  auto device_lock = impl_->device_locks.lock(
      std::vector<std::string_view>(device_keys.begin(), device_keys.end()));
  rocksdb::WriteBatch batch;
  SharedReleases released;
  for (const DeviceAddress& address : addresses) {
    PARLEY_RETURN_IF_ERROR(impl_->delete_device_data(batch, address, released));
  }
  batch.Delete(impl_->cf(Cf::kAccounts), account_key);
  batch.Delete(impl_->cf(Cf::kIdentityKeys), key_of(account->identity_key));
  if (account->username) batch.Delete(impl_->cf(Cf::kUsernames), *account->username);
  PARLEY_ASSIGN_OR_RETURN(auto plan, impl_->plan_releases(batch, released));
  PARLEY_RETURN_IF_ERROR(impl_->write(batch, "deleting account"));
  impl_->commit_releases(plan);
  return {};
}

// ---- Devices -----------------------------------------------------------------------------------

Status RocksDbStore::add_device(const Device& device, std::uint32_t max_devices) {
  PARLEY_RETURN_IF_ERROR(validate_new_device(device));
  std::string account_key = keys::account(device.account_id);
  auto account_lock = impl_->account_locks.lock(account_key);
  PARLEY_ASSIGN_OR_RETURN(bool has_account, impl_->exists(Cf::kAccounts, account_key));
  if (!has_account) return no_account();
  PARLEY_ASSIGN_OR_RETURN(auto addresses, device_addresses(*impl_, device.account_id));
  for (const DeviceAddress& address : addresses) {
    if (address.device_id == device.device_id) {
      return Status::error(ErrorCode::kAlreadyExists, "device id is taken");
    }
  }
  if (addresses.size() >= max_devices) {
    return Status::error(ErrorCode::kResourceExhausted, "account has its maximum of devices");
  }
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(Cf::kDevices), keys::device(device.address()), codec::encode_device(device));
  return impl_->write(batch, "adding device");
}

Result<Device> RocksDbStore::get_device(const DeviceAddress& address) const {
  PARLEY_ASSIGN_OR_RETURN(auto device, impl_->read_device(address));
  if (!device) return unknown_device_error(address);
  return std::move(*device);
}

Result<std::vector<Device>> RocksDbStore::list_devices(const AccountId& id) const {
  // One snapshot, so the account check and the device scan agree.
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snapshot;
    ~Release() { db->ReleaseSnapshot(snapshot); }
  } release{impl_->db.get(), snapshot};
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  std::string account_key = keys::account(id);
  std::string ignored;
  rocksdb::Status status =
      impl_->db->Get(read_options, impl_->cf(Cf::kAccounts), account_key, &ignored);
  if (status.IsNotFound()) return no_account();
  if (!status.ok()) return from_rocksdb(status, "reading account");
  std::string end = keys::prefix_end(account_key).value_or(std::string());
  rocksdb::Slice upper(end);
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(read_options, impl_->cf(Cf::kDevices)));
  std::vector<Device> out;
  for (it->Seek(account_key); it->Valid() && it->key().starts_with(account_key); it->Next()) {
    auto address = keys::parse_device(it->key().ToStringView());
    if (!address || it->key().size() != keys::kDeviceKeySize) {
      return Status::error(ErrorCode::kStorageCorrupt, "unreadable device key");
    }
    PARLEY_ASSIGN_OR_RETURN(Device device,
                            codec::decode_device(*address, it->value().ToStringView()));
    out.push_back(std::move(device));
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "listing devices");
  return out;
}

Status RocksDbStore::touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) {
  std::string device_key = keys::device(address);
  auto device_lock = impl_->device_locks.lock(device_key);
  PARLEY_ASSIGN_OR_RETURN(auto device, impl_->read_device(address));
  if (!device) return unknown_device_error(address);
  device->last_seen_ms = last_seen_ms;
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(Cf::kDevices), device_key, codec::encode_device(*device));
  return impl_->write(batch, "updating device");
}

Status RocksDbStore::remove_device(const DeviceAddress& address) {
  std::string device_key = keys::device(address);
  auto account_lock = impl_->account_locks.lock(keys::account(address.account_id));
  auto device_lock = impl_->device_locks.lock(device_key);
  PARLEY_ASSIGN_OR_RETURN(bool exists, impl_->exists(Cf::kDevices, device_key));
  if (!exists) return unknown_device_error(address);
  rocksdb::WriteBatch batch;
  SharedReleases released;
  PARLEY_RETURN_IF_ERROR(impl_->delete_device_data(batch, address, released));
  PARLEY_ASSIGN_OR_RETURN(auto plan, impl_->plan_releases(batch, released));
  PARLEY_RETURN_IF_ERROR(impl_->write(batch, "removing device"));
  impl_->commit_releases(plan);
  return {};
}

}  // namespace parley::store
