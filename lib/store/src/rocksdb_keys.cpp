// SPDX-License-Identifier: AGPL-3.0-or-later
#include "rocksdb_keys.h"

#include <algorithm>

namespace parley::store::keys {
namespace {

std::uint8_t byte_at(std::string_view in, std::size_t i) {
  return static_cast<std::uint8_t>(in[i]);
}

}  // namespace

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

std::uint32_t get_u32(std::string_view in, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | byte_at(in, offset + i);
  return value;
}

std::uint64_t get_u64(std::string_view in, std::size_t offset) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value = (value << 8) | byte_at(in, offset + i);
  return value;
}

std::string account(const AccountId& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), id.size());
}

std::string device(const DeviceAddress& address) {
  std::string key = account(address.account_id);
  put_u32(key, address.device_id);
  return key;
}

std::string signed_prekey(const DeviceAddress& address) {
  std::string key = device(address);
  key.push_back(kSignedPrekeyTag);
  return key;
}

std::string one_time_prekey_prefix(const DeviceAddress& address) {
  std::string key = device(address);
  key.push_back(kOneTimePrekeyTag);
  return key;
}

std::string one_time_prekey(const DeviceAddress& address, std::uint32_t key_id) {
  std::string key = one_time_prekey_prefix(address);
  put_u32(key, key_id);
  return key;
}

std::string message(const DeviceAddress& address, std::uint64_t seq) {
  std::string key = device(address);
  put_u64(key, seq);
  return key;
}

std::string mailbox_state(const DeviceAddress& address) {
  return "Q" + device(address);
}

std::string shared_payload(std::uint64_t id) {
  std::string key(1, kSharedPayloadTag);
  put_u64(key, id);
  return key;
}

std::string reference_count(std::uint64_t id) {
  std::string key(1, kReferenceCountTag);
  put_u64(key, id);
  return key;
}

std::optional<std::uint64_t> parse_shared_payload_id(std::string_view key) {
  if (key.size() != kSharedPayloadKeySize ||
      (key[0] != kSharedPayloadTag && key[0] != kReferenceCountTag)) {
    return std::nullopt;
  }
  return get_u64(key, 1);
}

std::optional<std::string> prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<std::uint8_t>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<std::uint8_t>(end.back()) + 1);
  return end;
}

std::optional<DeviceAddress> parse_device(std::string_view key) {
  if (key.size() < kDeviceKeySize) return std::nullopt;
  DeviceAddress address;
  std::copy_n(reinterpret_cast<const std::uint8_t*>(key.data()), kAccountIdSize,
              address.account_id.begin());
  address.device_id = get_u32(key, kAccountIdSize);
  return address;
}

std::optional<MessageKey> parse_message(std::string_view key) {
  if (key.size() != kMailboxKeySize) return std::nullopt;
  return MessageKey{*parse_device(key), get_u64(key, kDeviceKeySize)};
}

std::optional<std::uint32_t> parse_one_time_prekey_id(std::string_view key) {
  if (key.size() != kOneTimePrekeyKeySize || key[kDeviceKeySize] != kOneTimePrekeyTag) {
    return std::nullopt;
  }
  return get_u32(key, kDeviceKeySize + 1);
}

}  // namespace parley::store::keys
