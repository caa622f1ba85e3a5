// SPDX-License-Identifier: AGPL-3.0-or-later
#include "record_codec.h"

#include <algorithm>

#include "rocksdb_keys.h"

namespace parley::store::codec {
namespace {

constexpr char kVersion = 1;
// A mailbox entry that refers to a shared payload instead of holding one.
constexpr char kSharedEnvelopeVersion = 2;

Status corrupt(std::string_view what) {
  return Status::error(ErrorCode::kStorageCorrupt, "unreadable " + std::string(what) + " record");
}

class Writer {
 public:
  explicit Writer(char version = kVersion) { out_.push_back(version); }
  Writer& u8(std::uint8_t v) { return out_.push_back(static_cast<char>(v)), *this; }
  Writer& u32(std::uint32_t v) { return keys::put_u32(out_, v), *this; }
  Writer& u64(std::uint64_t v) { return keys::put_u64(out_, v), *this; }
  Writer& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
  Writer& bytes(std::string_view v) {
    u32(static_cast<std::uint32_t>(v.size()));
    out_.append(v);
    return *this;
  }
  Writer& bytes(ByteView v) { return bytes(as_string_view(v)); }
  Writer& address(const DeviceAddress& a) {
    out_.append(keys::account(a.account_id));
    return u32(a.device_id);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields in order; any short read or bad version makes ok() false for good.
class Reader {
 public:
  explicit Reader(std::string_view in, char version = kVersion) : in_(in) {
    ok_ = !in_.empty() && in_[0] == version;
    pos_ = 1;
  }
  bool ok() const { return ok_; }
  // True when everything was read and nothing is left over.
  bool done() const { return ok_ && pos_ == in_.size(); }

  std::uint8_t u8() { return have(1) ? static_cast<std::uint8_t>(in_[pos_++]) : 0; }
  std::uint32_t u32() {
    if (!have(4)) return 0;
    pos_ += 4;
    return keys::get_u32(in_, pos_ - 4);
  }
  std::uint64_t u64() {
    if (!have(8)) return 0;
    pos_ += 8;
    return keys::get_u64(in_, pos_ - 8);
  }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string_view bytes() {
    std::uint32_t size = u32();
    if (!have(size)) return {};
    pos_ += size;
    return in_.substr(pos_ - size, size);
  }
  Bytes byte_vector() {
    std::string_view v = bytes();
    ByteView view = as_bytes(v);
    return Bytes(view.begin(), view.end());
  }
  DeviceAddress address() {
    DeviceAddress a;
    if (have(kAccountIdSize)) {
      std::copy_n(reinterpret_cast<const std::uint8_t*>(in_.data() + pos_), kAccountIdSize,
                  a.account_id.begin());
      pos_ += kAccountIdSize;
    }
    a.device_id = u32();
    return a;
  }

 private:
  bool have(std::size_t n) {
    if (ok_ && in_.size() - pos_ >= n) return true;
    ok_ = false;
    return false;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = false;
};

}  // namespace

std::string encode_account(const Account& account) {
  Writer w;
  w.bytes(account.identity_key).u8(account.username ? 1 : 0);
  w.bytes(account.username ? std::string_view(*account.username) : std::string_view());
  w.i64(account.created_ms).bytes(account.signed_device_list);
  return w.take();
}

Result<Account> decode_account(const AccountId& id, std::string_view value) {
  Reader r(value);
  Account account;
  account.id = id;
  account.identity_key = r.byte_vector();
  bool has_username = r.u8() == 1;
  std::string_view username = r.bytes();
  if (has_username) account.username = std::string(username);
  account.created_ms = r.i64();
  account.signed_device_list = r.byte_vector();
  if (!r.done()) return corrupt("account");
  return account;
}

std::string encode_device(const Device& device) {
  Writer w;
  w.bytes(device.public_key).u32(device.registration_id);
  w.i64(device.created_ms).i64(device.last_seen_ms);
  return w.take();
}

Result<Device> decode_device(const DeviceAddress& address, std::string_view value) {
  Reader r(value);
  Device device;
  device.account_id = address.account_id;
  device.device_id = address.device_id;
  device.public_key = r.byte_vector();
  device.registration_id = r.u32();
  device.created_ms = r.i64();
  device.last_seen_ms = r.i64();
  if (!r.done()) return corrupt("device");
  return device;
}

std::string encode_signed_prekey(const SignedPrekey& prekey) {
  Writer w;
  w.u32(prekey.key_id).bytes(prekey.public_key).bytes(prekey.signature);
  return w.take();
}

Result<SignedPrekey> decode_signed_prekey(std::string_view value) {
  Reader r(value);
  SignedPrekey prekey;
  prekey.key_id = r.u32();
  prekey.public_key = r.byte_vector();
  prekey.signature = r.byte_vector();
  if (!r.done()) return corrupt("signed prekey");
  return prekey;
}

std::string encode_one_time_prekey(const OneTimePrekey& prekey) {
  Writer w;
  w.bytes(prekey.public_key);
  return w.take();
}

Result<OneTimePrekey> decode_one_time_prekey(std::uint32_t key_id, std::string_view value) {
  Reader r(value);
  OneTimePrekey prekey;
  prekey.key_id = key_id;
  prekey.public_key = r.byte_vector();
  if (!r.done()) return corrupt("one-time prekey");
  return prekey;
}

std::string encode_envelope(const NewEnvelope& envelope) {
  Writer w;
  w.i64(envelope.timestamp_ms).u8(envelope.sender ? 1 : 0);
  if (envelope.sender) w.address(*envelope.sender);
  w.bytes(envelope.payload);
  return w.take();
}

std::string encode_shared_envelope(const NewEnvelope& envelope, std::uint64_t payload_id) {
  Writer w(kSharedEnvelopeVersion);
  w.i64(envelope.timestamp_ms).u8(envelope.sender ? 1 : 0);
  if (envelope.sender) w.address(*envelope.sender);
  w.u64(payload_id);
  return w.take();
}

Result<MailboxEntry> decode_mailbox_entry(std::uint64_t seq, std::string_view value) {
  const bool shared = !value.empty() && value[0] == kSharedEnvelopeVersion;
  Reader r(value, shared ? kSharedEnvelopeVersion : kVersion);
  MailboxEntry entry;
  entry.envelope.seq = seq;
  entry.envelope.timestamp_ms = r.i64();
  if (r.u8() == 1) entry.envelope.sender = r.address();
  if (shared) {
    entry.shared_payload = r.u64();
  } else {
    entry.envelope.payload = r.byte_vector();
  }
  if (!r.done()) return corrupt("message");
  return entry;
}

Result<std::optional<std::uint64_t>> decode_shared_reference(std::string_view value) {
  if (value.empty() || value[0] != kSharedEnvelopeVersion) return std::optional<std::uint64_t>();
  PARLEY_ASSIGN_OR_RETURN(MailboxEntry entry, decode_mailbox_entry(0, value));
  return entry.shared_payload;
}

Result<StoredEnvelope> decode_envelope(std::uint64_t seq, std::string_view value) {
  PARLEY_ASSIGN_OR_RETURN(MailboxEntry entry, decode_mailbox_entry(seq, value));
  if (entry.shared_payload) return corrupt("message");  // the caller must resolve the reference
  return std::move(entry.envelope);
}

Result<std::int64_t> decode_envelope_timestamp(std::string_view value) {
  // Both kinds of entry start with the timestamp.
  Reader r(value, !value.empty() && value[0] == kSharedEnvelopeVersion ? kSharedEnvelopeVersion
                                                                       : kVersion);
  std::int64_t timestamp_ms = r.i64();
  if (!r.ok()) return corrupt("message");
  return timestamp_ms;
}

std::string encode_shared_payload(ByteView payload) {
  Writer w;
  w.bytes(payload);
  return w.take();
}

Result<Bytes> decode_shared_payload(std::string_view value) {
  Reader r(value);
  Bytes payload = r.byte_vector();
  if (!r.done() || payload.empty()) return corrupt("shared payload");
  return payload;
}

std::string encode_reference_count(std::uint64_t count) {
  Writer w;
  w.u64(count);
  return w.take();
}

Result<std::uint64_t> decode_reference_count(std::string_view value) {
  Reader r(value);
  std::uint64_t count = r.u64();
  if (!r.done() || count == 0) return corrupt("shared payload reference count");
  return count;
}

Result<std::uint64_t> decode_merged_reference_count(std::string_view value) {
  Reader r(value);
  std::uint64_t count = r.u64();
  if (!r.done()) return corrupt("shared payload reference count");
  return count;
}

std::string encode_dedupe(const DedupeRecord& record) {
  Writer w;
  w.i64(record.created_ms).u32(static_cast<std::uint32_t>(record.copies.size()));
  for (const DeliveredCopy& copy : record.copies) w.address(copy.recipient).u64(copy.seq);
  return w.take();
}

Result<DedupeRecord> decode_dedupe(std::string_view value) {
  Reader r(value);
  DedupeRecord record;
  record.created_ms = r.i64();
  std::uint32_t count = r.u32();
  // Each copy takes 28 bytes: refuse a count the value cannot hold before reserving memory.
  if (!r.ok() || count > value.size() / 28) return corrupt("dedupe");
  record.copies.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    DeliveredCopy copy;
    copy.recipient = r.address();
    copy.seq = r.u64();
    record.copies.push_back(copy);
  }
  if (!r.done()) return corrupt("dedupe");
  return record;
}

std::string encode_mailbox_state(const MailboxState& state) {
  Writer w;
  w.u64(state.next_seq).u64(state.count);
  return w.take();
}

Result<MailboxState> decode_mailbox_state(std::string_view value) {
  Reader r(value);
  MailboxState state;
  state.next_seq = r.u64();
  state.count = r.u64();
  if (!r.done()) return corrupt("mailbox state");
  return state;
}

std::string encode_account_id(const AccountId& id) {
  return keys::account(id);
}

Result<AccountId> decode_account_id(std::string_view value) {
  if (value.size() != kAccountIdSize) return corrupt("index");
  AccountId id{};
  std::copy_n(reinterpret_cast<const std::uint8_t*>(value.data()), kAccountIdSize, id.begin());
  return id;
}

}  // namespace parley::store::codec
