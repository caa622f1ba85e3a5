// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Plain records kept by a Store. They hold opaque bytes only: the store never parses keys,
// signatures, device lists or message payloads, so every backend (RocksDB, PostgreSQL, memory)
// keeps exactly the same data and no backend depends on the wire format.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::store {

// 16 random bytes assigned by the server when an account is created.
inline constexpr std::size_t kAccountIdSize = 16;
using AccountId = std::array<std::uint8_t, kAccountIdSize>;

// Parses an account id received from the wire: exactly 16 bytes, else kInvalidArgument.
Result<AccountId> account_id_from_bytes(ByteView bytes);

// Devices are numbered per account; the primary device is 1. 0 is never a device.
using DeviceId = std::uint32_t;
inline constexpr DeviceId kPrimaryDeviceId = 1;

// One device of one account: the unit that owns keys and a mailbox.
struct DeviceAddress {
  AccountId account_id{};
  DeviceId device_id = 0;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>.
  friend auto operator<=>(const DeviceAddress&, const DeviceAddress&) = default;
};

// "device 2 of account 00112233…" (full hex id): for error messages and logs. Account ids are
// random server-assigned handles, not user data.
std::string to_string(const DeviceAddress& address);

struct Account {
  AccountId id{};
  Bytes identity_key;  // the account's public identity key (33 bytes, 0x05-prefixed); unique
  std::optional<std::string> username;  // already normalized by the caller; unique when set
  std::int64_t created_ms = 0;          // Unix milliseconds
  Bytes signed_device_list;             // opaque, signed by the primary device

  friend bool operator==(const Account&, const Account&) = default;
};

struct Device {
  AccountId account_id{};
  DeviceId device_id = 0;
  Bytes public_key;  // the device's own identity/public key, opaque to the store
  std::uint32_t registration_id = 0;
  std::int64_t created_ms = 0;
  std::int64_t last_seen_ms = 0;

  DeviceAddress address() const { return {account_id, device_id}; }
  friend bool operator==(const Device&, const Device&) = default;
};

// The medium-term prekey of a device; replaced from time to time, never consumed.
struct SignedPrekey {
  std::uint32_t key_id = 0;
  Bytes public_key;
  Bytes signature;

  friend bool operator==(const SignedPrekey&, const SignedPrekey&) = default;
};

// A one-time prekey: handed out to at most one requester, then gone.
struct OneTimePrekey {
  std::uint32_t key_id = 0;
  Bytes public_key;

  friend bool operator==(const OneTimePrekey&, const OneTimePrekey&) = default;
};

// One copy of a message for one recipient device, as given to append_messages().
struct NewEnvelope {
  DeviceAddress recipient;
  std::optional<DeviceAddress> sender;  // empty for sealed sender
  std::int64_t timestamp_ms = 0;        // server receive time; retention purges by it
  // Opaque ciphertext frame. Empty when the request has a shared payload: this copy then refers
  // to AppendRequest::shared_payload instead of holding bytes of its own.
  Bytes payload;
};

// A message waiting in a device's mailbox.
struct StoredEnvelope {
  std::uint64_t seq = 0;  // per-device, starts at 1, strictly increasing, never reused
  std::optional<DeviceAddress> sender;
  std::int64_t timestamp_ms = 0;
  Bytes payload;

  friend bool operator==(const StoredEnvelope&, const StoredEnvelope&) = default;
};

// Where one appended copy went.
struct DeliveredCopy {
  DeviceAddress recipient;
  std::uint64_t seq = 0;

  friend bool operator==(const DeliveredCopy&, const DeliveredCopy&) = default;
};

struct AppendRequest {
  std::vector<NewEnvelope> envelopes;  // all copies of one message; written together or not at all
  // Identifies the sender's request for retries (the caller builds it, e.g. sender device + client
  // message id). Empty: no deduplication.
  Bytes dedupe_key;
  std::int64_t now_ms = 0;  // recorded with the dedupe key so purge_dedupe_keys_older_than works
  std::uint64_t max_queue_per_device = 0;  // 0: no cap
  // Fan-out by reference (group messages): one payload for many mailbox entries. When set, every
  // envelope with an empty payload refers to it; the store keeps it ONCE, however many entries
  // refer to it, and deletes it with the last of them (see Store::append_messages). Must not be
  // empty. Envelopes with a payload of their own keep it as usual.
  std::optional<Bytes> shared_payload;
};

struct AppendResult {
  // copies[i] is where request.envelopes[i] went (for a duplicate: the ORIGINAL request's copies).
  std::vector<DeliveredCopy> copies;
  bool duplicate = false;  // true: the dedupe key was seen before and nothing was written

  friend bool operator==(const AppendResult&, const AppendResult&) = default;
};

}  // namespace parley::store
