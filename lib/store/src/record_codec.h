// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Value encoding of RocksDbStore: a version byte, then fixed-width big-endian integers and
// u32-length-prefixed byte strings. Decoders are strict (exact length, known version) and report
// anything else as kStorageCorrupt: a value we cannot read means the store is damaged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/store/records.h"
#include "parley/util/status.h"

namespace parley::store::codec {

// The account id and device address live in the keys, so they are passed back in on decode.
std::string encode_account(const Account& account);
Result<Account> decode_account(const AccountId& id, std::string_view value);

std::string encode_device(const Device& device);
Result<Device> decode_device(const DeviceAddress& address, std::string_view value);

std::string encode_signed_prekey(const SignedPrekey& prekey);
Result<SignedPrekey> decode_signed_prekey(std::string_view value);

std::string encode_one_time_prekey(const OneTimePrekey& prekey);  // key id is in the key
Result<OneTimePrekey> decode_one_time_prekey(std::uint32_t key_id, std::string_view value);

// A mailbox entry holds its payload (encode_envelope) or refers to a shared payload by id
// (encode_shared_envelope; the value's version byte tells the two apart).
std::string encode_envelope(const NewEnvelope& envelope);
std::string encode_shared_envelope(const NewEnvelope& envelope, std::uint64_t payload_id);
struct MailboxEntry {
  StoredEnvelope envelope;                      // payload empty when shared_payload is set
  std::optional<std::uint64_t> shared_payload;  // the referenced shared payload's id
};
Result<MailboxEntry> decode_mailbox_entry(std::uint64_t seq, std::string_view value);
// Only the shared payload id of an entry that refers to one (nullopt for an entry that holds its
// payload), without copying payload bytes.
Result<std::optional<std::uint64_t>> decode_shared_reference(std::string_view value);
// Only entries that hold their payload (a reference is kStorageCorrupt here).
Result<StoredEnvelope> decode_envelope(std::uint64_t seq, std::string_view value);
// Only the timestamp, for retention scans that need not copy payloads.
Result<std::int64_t> decode_envelope_timestamp(std::string_view value);

// Shared payloads: the bytes (written once) and the number of mailbox entries referring to them
// (rewritten on every release, kept apart so a release never rewrites the payload).
std::string encode_shared_payload(ByteView payload);
Result<Bytes> decode_shared_payload(std::string_view value);
std::string encode_reference_count(std::uint64_t count);
Result<std::uint64_t> decode_reference_count(std::string_view value);
// The same 8 bytes as a merge operand (references released) or as a count after merges, where 0
// is legal: the moment between the release that drops the last reference and the deletion of
// the payload (RocksDbStore::Impl::commit_releases, or the next open after a crash there).
Result<std::uint64_t> decode_merged_reference_count(std::string_view value);

struct DedupeRecord {
  std::int64_t created_ms = 0;
  std::vector<DeliveredCopy> copies;
};
std::string encode_dedupe(const DedupeRecord& record);
Result<DedupeRecord> decode_dedupe(std::string_view value);

// Per-device mailbox bookkeeping kept in the meta column family.
struct MailboxState {
  std::uint64_t next_seq = 1;  // the seq the next appended message gets
  std::uint64_t count = 0;     // messages currently stored
};
std::string encode_mailbox_state(const MailboxState& state);
Result<MailboxState> decode_mailbox_state(std::string_view value);

std::string encode_account_id(const AccountId& id);
Result<AccountId> decode_account_id(std::string_view value);

}  // namespace parley::store::codec
