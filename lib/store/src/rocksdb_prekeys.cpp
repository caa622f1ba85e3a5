// SPDX-License-Identifier: AGPL-3.0-or-later
// RocksDbStore: the key directory (signed prekey and one-time prekeys of each device).
//
// Every mutation holds the device's stripe lock and checks that the device exists under it, so
// nothing is written for a device that remove_device()/delete_account() (which take the same lock)
// just deleted, and two claims for one device never return the same key.

#include <set>

#include "rocksdb_impl.h"
#include "rocksdb_keys.h"
#include "validation.h"

namespace parley::store {
namespace {

Status require_device(const RocksDbStore::Impl& impl, const DeviceAddress& address) {
  PARLEY_ASSIGN_OR_RETURN(bool exists, impl.exists(Cf::kDevices, keys::device(address)));
  if (!exists) return unknown_device_error(address);
  return {};
}

// Calls `visit(key, value)` for each stored one-time prekey of the device, lowest id first, until
// it returns false.
template <typename Visit>
Status scan_one_time_prekeys(const RocksDbStore::Impl& impl, const DeviceAddress& address,
                             Visit visit) {
  std::string prefix = keys::one_time_prekey_prefix(address);
  std::string end = keys::prefix_end(prefix).value_or(std::string());
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions read_options;
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl.db->NewIterator(read_options, impl.cf(Cf::kPrekeys)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "scanning prekeys");
  return {};
}

}  // namespace

Status RocksDbStore::set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) {
  PARLEY_RETURN_IF_ERROR(validate_signed_prekey(prekey));
  auto device_lock = impl_->device_locks.lock(keys::device(address));
  PARLEY_RETURN_IF_ERROR(require_device(*impl_, address));
  rocksdb::WriteBatch batch;
  batch.Put(impl_->cf(Cf::kPrekeys), keys::signed_prekey(address),
            codec::encode_signed_prekey(prekey));
  return impl_->write(batch, "setting signed prekey");
}

Result<SignedPrekey> RocksDbStore::get_signed_prekey(const DeviceAddress& address) const {
  PARLEY_RETURN_IF_ERROR(require_device(*impl_, address));
  PARLEY_ASSIGN_OR_RETURN(auto value, impl_->get(Cf::kPrekeys, keys::signed_prekey(address)));
  if (!value) return Status::error(ErrorCode::kNotFound, "no signed prekey");
  return codec::decode_signed_prekey(*value);
}

Status RocksDbStore::add_one_time_prekeys(const DeviceAddress& address,
                                          std::span<const OneTimePrekey> prekeys,
                                          std::uint32_t max_stored) {
  PARLEY_RETURN_IF_ERROR(validate_one_time_prekeys(prekeys));
  auto device_lock = impl_->device_locks.lock(keys::device(address));
  PARLEY_RETURN_IF_ERROR(require_device(*impl_, address));
  std::set<std::uint32_t> stored_ids;
  Status corrupt;
  PARLEY_RETURN_IF_ERROR(
      scan_one_time_prekeys(*impl_, address, [&](std::string_view key, std::string_view) {
        auto id = keys::parse_one_time_prekey_id(key);
        if (!id) {
          corrupt = Status::error(ErrorCode::kStorageCorrupt, "unreadable prekey key");
          return false;
        }
        stored_ids.insert(*id);
        return true;
      }));
  PARLEY_RETURN_IF_ERROR(corrupt);
  std::uint64_t total = stored_ids.size();
  for (const OneTimePrekey& prekey : prekeys) total += stored_ids.contains(prekey.key_id) ? 0 : 1;
  if (total > max_stored) {
    return Status::error(ErrorCode::kResourceExhausted, "too many one-time prekeys");
  }
  rocksdb::WriteBatch batch;
  for (const OneTimePrekey& prekey : prekeys) {
    batch.Put(impl_->cf(Cf::kPrekeys), keys::one_time_prekey(address, prekey.key_id),
              codec::encode_one_time_prekey(prekey));
  }
  return impl_->write(batch, "adding one-time prekeys");
}

Result<std::optional<OneTimePrekey>> RocksDbStore::claim_one_time_prekey(
    const DeviceAddress& address) {
  auto device_lock = impl_->device_locks.lock(keys::device(address));
  PARLEY_RETURN_IF_ERROR(require_device(*impl_, address));
  std::string first_key;
  std::string first_value;
  PARLEY_RETURN_IF_ERROR(
      scan_one_time_prekeys(*impl_, address, [&](std::string_view key, std::string_view value) {
        first_key = key;
        first_value = value;
        return false;
      }));
  if (first_key.empty()) return std::optional<OneTimePrekey>();
  auto id = keys::parse_one_time_prekey_id(first_key);
  if (!id) return Status::error(ErrorCode::kStorageCorrupt, "unreadable prekey key");
  PARLEY_ASSIGN_OR_RETURN(OneTimePrekey prekey, codec::decode_one_time_prekey(*id, first_value));
  rocksdb::WriteBatch batch;
  batch.Delete(impl_->cf(Cf::kPrekeys), first_key);
  // Durable before returning: a key handed out must never be handed out again after a crash.
  PARLEY_RETURN_IF_ERROR(impl_->write(batch, "claiming one-time prekey"));
  return std::optional<OneTimePrekey>(std::move(prekey));
}

Result<std::uint64_t> RocksDbStore::count_one_time_prekeys(const DeviceAddress& address) const {
  PARLEY_RETURN_IF_ERROR(require_device(*impl_, address));
  std::uint64_t count = 0;
  PARLEY_RETURN_IF_ERROR(
      scan_one_time_prekeys(*impl_, address, [&](std::string_view, std::string_view) {
        ++count;
        return true;
      }));
  return count;
}

}  // namespace parley::store
