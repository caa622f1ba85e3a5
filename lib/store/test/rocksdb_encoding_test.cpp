// SPDX-License-Identifier: AGPL-3.0-or-later
// The RocksDB key and value encodings: byte order equals numeric order, and damaged values are
// reported as corruption instead of being misread.

#include <gtest/gtest.h>

#include "../src/record_codec.h"
#include "../src/rocksdb_keys.h"

namespace parley::store {
namespace {

DeviceAddress device(std::uint8_t account, DeviceId id) {
  AccountId account_id{};
  account_id[0] = account;
  return {account_id, id};
}

TEST(RocksDbKeysTest, MessageKeysSortByDeviceThenSeq) {
  EXPECT_LT(keys::message(device(1, 1), 255), keys::message(device(1, 1), 256));
  EXPECT_LT(keys::message(device(1, 1), 1ull << 40), keys::message(device(1, 2), 1));
  EXPECT_LT(keys::message(device(1, 0xffffffff), 9), keys::message(device(2, 1), 1));
  auto parsed = keys::parse_message(keys::message(device(7, 300), 1ull << 33));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->address, device(7, 300));
  EXPECT_EQ(parsed->seq, 1ull << 33);
  EXPECT_FALSE(keys::parse_message("short").has_value());
}

TEST(RocksDbKeysTest, OneTimePrekeyKeysSortByIdUnderTheirDevice) {
  std::string prefix = keys::one_time_prekey_prefix(device(1, 1));
  EXPECT_TRUE(keys::one_time_prekey(device(1, 1), 5).starts_with(prefix));
  EXPECT_LT(keys::one_time_prekey(device(1, 1), 5), keys::one_time_prekey(device(1, 1), 256));
  EXPECT_EQ(keys::parse_one_time_prekey_id(keys::one_time_prekey(device(1, 1), 77)), 77u);
  EXPECT_FALSE(keys::parse_one_time_prekey_id(keys::signed_prekey(device(1, 1))).has_value());
}

TEST(RocksDbKeysTest, PrefixEndBoundsExactlyThePrefix) {
  EXPECT_EQ(keys::prefix_end("ab"), "ac");
  EXPECT_EQ(keys::prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_FALSE(keys::prefix_end(std::string("\xff\xff", 2)).has_value());
}

TEST(RecordCodecTest, RoundTripsEveryRecord) {
  Account account{{}, Bytes{5, 1}, "name", -3, Bytes{9}};
  EXPECT_EQ(*codec::decode_account(account.id, codec::encode_account(account)), account);
  account.username.reset();
  EXPECT_EQ(*codec::decode_account(account.id, codec::encode_account(account)), account);

  Device d{{}, 4, Bytes{1, 2}, 77, 10, 20};
  EXPECT_EQ(*codec::decode_device(d.address(), codec::encode_device(d)), d);

  SignedPrekey signed_prekey{3, Bytes{1}, Bytes{2, 2}};
  EXPECT_EQ(*codec::decode_signed_prekey(codec::encode_signed_prekey(signed_prekey)),
            signed_prekey);

  NewEnvelope envelope{device(1, 1), device(2, 9), 123, Bytes{0, 0, 7}};
  auto stored = codec::decode_envelope(8, codec::encode_envelope(envelope));
  EXPECT_EQ(*stored, (StoredEnvelope{8, device(2, 9), 123, Bytes{0, 0, 7}}));
  EXPECT_EQ(*codec::decode_envelope_timestamp(codec::encode_envelope(envelope)), 123);

  codec::DedupeRecord record{55, {{device(1, 1), 3}, {device(2, 2), 4}}};
  auto decoded = codec::decode_dedupe(codec::encode_dedupe(record));
  EXPECT_EQ(decoded->created_ms, 55);
  EXPECT_EQ(decoded->copies, record.copies);

  auto state = codec::decode_mailbox_state(codec::encode_mailbox_state({9, 4}));
  EXPECT_EQ(state->next_seq, 9u);
  EXPECT_EQ(state->count, 4u);
}

TEST(RecordCodecTest, SharedPayloadEntriesRefer) {
  NewEnvelope envelope{device(1, 1), device(2, 9), 123, Bytes{}};
  std::string shared = codec::encode_shared_envelope(envelope, 0x0102030405060708);
  auto entry = codec::decode_mailbox_entry(8, shared);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->envelope, (StoredEnvelope{8, device(2, 9), 123, Bytes{}}));
  EXPECT_EQ(entry->shared_payload, 0x0102030405060708u);
  EXPECT_EQ(*codec::decode_envelope_timestamp(shared), 123);
  EXPECT_EQ(*codec::decode_shared_reference(shared), 0x0102030405060708u);
  // An unresolved reference is never handed out as an envelope.
  EXPECT_EQ(codec::decode_envelope(8, shared).status().code(), ErrorCode::kStorageCorrupt);
  envelope.payload = Bytes{7};
  std::string own = codec::encode_envelope(envelope);
  EXPECT_FALSE(codec::decode_mailbox_entry(8, own)->shared_payload.has_value());
  EXPECT_FALSE(codec::decode_shared_reference(own)->has_value());
  for (std::size_t cut = 1; cut < shared.size(); ++cut) {
    EXPECT_EQ(codec::decode_mailbox_entry(8, shared.substr(0, cut)).status().code(),
              ErrorCode::kStorageCorrupt);
  }

  EXPECT_EQ(*codec::decode_shared_payload(codec::encode_shared_payload(Bytes{1, 2, 3})),
            (Bytes{1, 2, 3}));
  EXPECT_EQ(*codec::decode_reference_count(codec::encode_reference_count(200)), 200u);
  EXPECT_EQ(codec::decode_reference_count(codec::encode_reference_count(0)).status().code(),
            ErrorCode::kStorageCorrupt);
  EXPECT_EQ(keys::parse_shared_payload_id(keys::reference_count(42)), 42u);
  EXPECT_EQ(keys::parse_shared_payload_id(keys::shared_payload(43)), 43u);
  EXPECT_LT(keys::shared_payload(UINT64_MAX), keys::reference_count(0));
}

TEST(RecordCodecTest, TruncatedExtendedOrUnversionedValuesAreCorrupt) {
  std::string value = codec::encode_account(Account{{}, Bytes{5, 1}, "name", 1, Bytes{9}});
  for (std::size_t cut = 0; cut < value.size(); ++cut) {
    EXPECT_EQ(codec::decode_account({}, value.substr(0, cut)).status().code(),
              ErrorCode::kStorageCorrupt);
  }
  EXPECT_EQ(codec::decode_account({}, value + "x").status().code(), ErrorCode::kStorageCorrupt);
  std::string other_version = value;
  other_version[0] = 2;
  EXPECT_EQ(codec::decode_account({}, other_version).status().code(), ErrorCode::kStorageCorrupt);
  // A dedupe record claiming more copies than it holds is refused before allocating them.
  std::string dedupe = codec::encode_dedupe({1, {}});
  dedupe[12] = '\x7f';
  EXPECT_EQ(codec::decode_dedupe(dedupe).status().code(), ErrorCode::kStorageCorrupt);
  EXPECT_EQ(codec::decode_account_id("short").status().code(), ErrorCode::kStorageCorrupt);
}

}  // namespace
}  // namespace parley::store
