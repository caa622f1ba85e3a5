// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Key encoding of RocksDbStore. Integers are big-endian so RocksDB's bytewise order is numeric
// order: a device's mailbox `account | device | seq` iterates oldest first, and all keys of one
// account (or device) form one contiguous range that a prefix scan finds.
//
//   cf accounts       account(16)                           → Account value
//   cf usernames      username bytes                        → account(16)
//   cf identity_keys  identity key bytes                    → account(16)
//   cf devices        account(16) device(4)                 → Device value
//   cf prekeys        account(16) device(4) 'S'             → SignedPrekey value
//                     account(16) device(4) 'O' key_id(4)   → OneTimePrekey value
//   cf mailboxes      account(16) device(4) seq(8)          → envelope value
//   cf dedupe         caller's dedupe key                   → dedupe record
//   cf shared_payloads 'P' id(8)                            → shared payload bytes (written once)
//                     'R' id(8)                             → reference count (mailbox entries)
//   cf meta           "format_version"                      → u32
//                     'Q' account(16) device(4)             → mailbox state (next seq, count)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parley/store/records.h"

namespace parley::store::keys {

void put_u32(std::string& out, std::uint32_t value);
void put_u64(std::string& out, std::uint64_t value);
// Reads a big-endian integer at `offset`; the caller has checked the length.
std::uint32_t get_u32(std::string_view in, std::size_t offset);
std::uint64_t get_u64(std::string_view in, std::size_t offset);

inline constexpr std::size_t kDeviceKeySize = kAccountIdSize + 4;
inline constexpr std::size_t kMailboxKeySize = kDeviceKeySize + 8;
inline constexpr std::size_t kOneTimePrekeyKeySize = kDeviceKeySize + 1 + 4;
inline constexpr char kSignedPrekeyTag = 'S';
inline constexpr char kOneTimePrekeyTag = 'O';
inline constexpr std::string_view kFormatVersionKey = "format_version";

std::string account(const AccountId& id);
std::string device(const DeviceAddress& address);  // also the prefix of its prekeys and mailbox
std::string signed_prekey(const DeviceAddress& address);
std::string one_time_prekey(const DeviceAddress& address, std::uint32_t key_id);
std::string one_time_prekey_prefix(const DeviceAddress& address);
std::string message(const DeviceAddress& address, std::uint64_t seq);
std::string mailbox_state(const DeviceAddress& address);

// Shared payloads (fan-out by reference): all 'P' keys sort before all 'R' keys, so counting the
// live payloads at open scans the small reference counts only.
inline constexpr char kSharedPayloadTag = 'P';
inline constexpr char kReferenceCountTag = 'R';
inline constexpr std::size_t kSharedPayloadKeySize = 1 + 8;
std::string shared_payload(std::uint64_t id);
std::string reference_count(std::uint64_t id);
// The id of a 'P' or 'R' key; nullopt when the key has the wrong shape.
std::optional<std::uint64_t> parse_shared_payload_id(std::string_view key);

// The smallest key greater than every key starting with `prefix` (for iterate_upper_bound).
// nullopt when no such key exists (prefix is all 0xff).
std::optional<std::string> prefix_end(std::string_view prefix);

// Parses keys read back from the store; nullopt when the key has the wrong shape (corruption).
std::optional<DeviceAddress> parse_device(std::string_view key);
struct MessageKey {
  DeviceAddress address;
  std::uint64_t seq = 0;
};
std::optional<MessageKey> parse_message(std::string_view key);
std::optional<std::uint32_t> parse_one_time_prekey_id(std::string_view key);

}  // namespace parley::store::keys
