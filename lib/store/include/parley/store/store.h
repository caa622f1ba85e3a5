// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// parley::store::Store — everything the server keeps: accounts, devices, prekeys, mailboxes.
//
// Backend-neutral: MemoryStore (tests), RocksDbStore (one node, embedded), and later PostgreSQL
// implement this same interface and pass the same conformance tests.
//
// Contracts shared by every method:
//  - Thread-safe: any method may be called from any thread at any time.
//  - Every mutation is atomic (all of it happens or none of it) and, in persistent backends,
//    durable before the call returns ok (synced write): an ok answer may be acknowledged.
//  - Errors: kNotFound (the named account/device/record does not exist), kAlreadyExists (a unique
//    value is taken), kResourceExhausted (a caller-given cap is reached), kQueueFull (a mailbox is
//    at its cap), kInvalidArgument (an argument is malformed), kStorageIo / kStorageFull /
//    kStorageCorrupt (the backend failed: the mutation is not acknowledged and is not visible, but
//    a write that failed only at its fsync may still reappear after a restart — retry appends
//    with the same dedupe key, which makes that harmless).
//  - Error messages never contain usernames, keys or payloads. They may name an account by its
//    (random, server-assigned) id in hex and a device by its number.
//  - Byte fields are opaque: the store checks only that required ones are non-empty.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "parley/store/records.h"
#include "parley/store/stats.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::store {

class Store {
 public:
  virtual ~Store() = default;

  // ---- Accounts --------------------------------------------------------------------------------

  // Creates `account` (its id, identity key and optional username). The signed device list may be
  // empty at first. Does NOT create a device: add the primary device with add_device().
  // kAlreadyExists if the id, the identity key or the username is already registered (the message
  // says which); kInvalidArgument if identity_key is empty or username is an empty string.
  virtual Status create_account(const Account& account) = 0;

  // kNotFound if there is no such account.
  virtual Result<Account> get_account(const AccountId& id) const = 0;
  virtual Result<Account> find_account_by_username(std::string_view username) const = 0;
  virtual Result<Account> find_account_by_identity_key(ByteView identity_key) const = 0;

  // Sets (or, with nullopt, clears) the account's username, atomically with its uniqueness check:
  // the old name is released in the same write. Setting the name the account already has is ok.
  // kNotFound (no account), kAlreadyExists (another account holds it), kInvalidArgument (empty).
  virtual Status set_username(const AccountId& id, std::optional<std::string_view> username) = 0;

  // Replaces the opaque signed device list. kNotFound if there is no such account.
  virtual Status set_signed_device_list(const AccountId& id, ByteView signed_device_list) = 0;

  // Deletes the account and ALL its data — devices, prekeys, mailboxes, username and identity-key
  // index entries — in one atomic write. kNotFound if there is no such account.
  virtual Status delete_account(const AccountId& id) = 0;

  // ---- Devices ---------------------------------------------------------------------------------

  // Adds `device` to its account if the account has fewer than `max_devices` devices (checked
  // atomically with the insert). kNotFound (no account), kAlreadyExists (device id taken),
  // kResourceExhausted (account full), kInvalidArgument (device id 0 or empty public key).
  virtual Status add_device(const Device& device, std::uint32_t max_devices) = 0;

  // kNotFound if there is no such device.
  virtual Result<Device> get_device(const DeviceAddress& address) const = 0;

  // The account's devices ordered by device id. kNotFound if there is no such account.
  virtual Result<std::vector<Device>> list_devices(const AccountId& id) const = 0;

  // Records when the device was last connected. kNotFound if there is no such device.
  virtual Status touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) = 0;

  // Removes the device with its prekeys, mailbox and sequence counter, atomically. The primary
  // device may be removed too: which removals are allowed is the caller's policy.
  // kNotFound if there is no such device.
  virtual Status remove_device(const DeviceAddress& address) = 0;

  // ---- Key directory (per device) --------------------------------------------------------------

  // Sets or replaces the device's signed prekey. kNotFound (no device), kInvalidArgument (empty
  // public key or signature).
  virtual Status set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) = 0;

  // kNotFound if there is no such device or it has not set a signed prekey.
  virtual Result<SignedPrekey> get_signed_prekey(const DeviceAddress& address) const = 0;

  // Stores a batch of one-time prekeys, replacing any stored key with the same id. The whole batch
  // is refused with kResourceExhausted if the device would then hold more than `max_stored` keys.
  // kNotFound (no device), kInvalidArgument (an empty public key or duplicate ids in the batch).
  virtual Status add_one_time_prekeys(const DeviceAddress& address,
                                      std::span<const OneTimePrekey> prekeys,
                                      std::uint32_t max_stored) = 0;

  // Removes and returns the device's one-time prekey with the lowest id, or nullopt when none is
  // left. Each key is handed out at most once, even to concurrent callers, and its removal is
  // durable before it is returned. kNotFound if there is no such device.
  virtual Result<std::optional<OneTimePrekey>> claim_one_time_prekey(
      const DeviceAddress& address) = 0;

  // kNotFound if there is no such device.
  virtual Result<std::uint64_t> count_one_time_prekeys(const DeviceAddress& address) const = 0;

  // ---- Mailboxes -------------------------------------------------------------------------------

  // Appends every envelope of `request` — all copies of one message — in ONE atomic durable write
  // and returns the sequence number each copy got (in request order). Sequence numbers are
  // per-device, start at 1, strictly increase and are never reused, also across restarts.
  // With a non-empty dedupe key that was seen before (and not yet purged), nothing is written and
  // the ORIGINAL result is returned with duplicate = true, even if the envelopes differ.
  // Concurrent calls with the same dedupe key write once; the others return the same result.
  // Errors (nothing written): kInvalidArgument (no envelopes, device id 0), kNotFound (a recipient
  // device does not exist; the message names it), kQueueFull (a recipient mailbox would exceed
  // max_queue_per_device; the message names the device). Unknown devices are reported before full
  // mailboxes; among several, the lowest address (account id, then device id) is named.
  // kInvalidArgument also for a shared payload that is set but empty.
  //
  // Shared payload (request.shared_payload, for group fan-out): every envelope with an empty
  // payload becomes a mailbox entry that refers to ONE stored copy of the shared payload, written
  // in the same atomic write as the entries (and not at all when no envelope refers to it, or
  // for a duplicate). The payload is reference-counted per mailbox entry and deleted in the same
  // atomic write that deletes its last referencing entry, whichever way that entry goes: an ack
  // (delete_messages), the retention purge, remove_device or delete_account. Concurrent deletes of
  // entries of one payload (e.g. many devices acking at once) keep the count exact.
  // stats().shared_payloads_live counts the payloads currently stored.
  virtual Result<AppendResult> append_messages(const AppendRequest& request) = 0;

  // Up to `max_count` messages with seq > after_seq, in increasing seq order, with shared payloads
  // resolved: an entry that refers to a shared payload comes back with that payload in
  // StoredEnvelope::payload, so readers cannot tell the two kinds apart. An unknown device has an
  // empty mailbox (not an error): its messages may have just been deleted with it.
  virtual Result<std::vector<StoredEnvelope>> read_messages(const DeviceAddress& address,
                                                            std::uint64_t after_seq,
                                                            std::uint32_t max_count) const = 0;

  // Deletes the listed messages (the device's acks) in one durable write. Idempotent: seqs that
  // are not (or no longer) present are ignored. Returns how many were actually deleted.
  virtual Result<std::uint64_t> delete_messages(const DeviceAddress& address,
                                                std::span<const std::uint64_t> seqs) = 0;
  Result<std::uint64_t> delete_message(const DeviceAddress& address, std::uint64_t seq) {
    return delete_messages(address, std::span<const std::uint64_t>(&seq, 1));
  }

  // Number of messages waiting for the device (0 for an unknown device).
  virtual Result<std::uint64_t> count_messages(const DeviceAddress& address) const = 0;

  // Retention: deletes every message with timestamp_ms < cutoff_ms in every mailbox. Returns how
  // many were deleted. May run in several durable writes; each message is deleted at most once.
  virtual Result<std::uint64_t> purge_messages_older_than(std::int64_t cutoff_ms) = 0;

  // Forgets dedupe keys recorded with now_ms < cutoff_ms: a retry after that is a new message.
  virtual Result<std::uint64_t> purge_dedupe_keys_older_than(std::int64_t cutoff_ms) = 0;

  // ---- Observability ---------------------------------------------------------------------------

  virtual StoreStats stats() const = 0;
};

}  // namespace parley::store
