// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/messages.h"

#include <gtest/gtest.h>

#include <random>

#include "parley/crypto/hash.h"
#include "parley/crypto/random.h"
#include "test_util.h"

namespace parley::crypto {
namespace {

// Hand-encoded protobuf pieces: libsignal's field numbers and wire types, written out so a wrong
// field number or type in our schema shows up as a byte difference.
void put_varint_field(Bytes& out, std::uint8_t field, std::uint32_t value) {
  out.push_back(static_cast<std::uint8_t>(field << 3));
  do {
    std::uint8_t b = value & 0x7f;
    value >>= 7;
    out.push_back(value ? (b | 0x80) : b);
  } while (value);
}

void put_bytes_field(Bytes& out, std::uint8_t field, ByteView bytes) {
  out.push_back(static_cast<std::uint8_t>((field << 3) | 2));
  out.push_back(static_cast<std::uint8_t>(bytes.size()));  // < 128 in these tests
  append(out, bytes);
}

struct Identities {
  PublicKey sender = KeyPair::generate().public_key;
  PublicKey receiver = KeyPair::generate().public_key;
};

TEST(SignalMessage, MatchesLibsignalLayout) {
  Identities ids;
  PublicKey ratchet = KeyPair::generate().public_key;
  SecretBytes mac_key = random_secret(32);
  Bytes ciphertext = random_bytes(48);
  Result<SignalMessage> m =
      SignalMessage::create(ratchet, 300, 7, ciphertext, mac_key.view(), ids.sender, ids.receiver);
  ASSERT_TRUE(m.ok());

  Bytes expected{0x33};
  put_bytes_field(expected, 1, ratchet.serialize());
  put_varint_field(expected, 2, 300);
  put_varint_field(expected, 3, 7);
  put_bytes_field(expected, 4, ciphertext);
  SecretBytes mac = hmac_sha256(
      mac_key.view(), concat({ids.sender.serialize(), ids.receiver.serialize(), expected}));
  append(expected, mac.view().first(8));
  EXPECT_EQ(m->serialize(), expected);

  Result<SignalMessage> parsed = SignalMessage::parse(expected);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ratchet_key(), ratchet);
  EXPECT_EQ(parsed->counter(), 300u);
  EXPECT_EQ(parsed->previous_counter(), 7u);
  EXPECT_EQ(parsed->ciphertext(), ciphertext);
  EXPECT_TRUE(parsed->verify_mac(mac_key.view(), ids.sender, ids.receiver).ok());
  // The MAC binds direction and both identities.
  EXPECT_EQ(parsed->verify_mac(mac_key.view(), ids.receiver, ids.sender).code(),
            ErrorCode::kBadMac);
  SecretBytes other = random_secret(32);
  EXPECT_EQ(parsed->verify_mac(other.view(), ids.sender, ids.receiver).code(), ErrorCode::kBadMac);
}

TEST(SignalMessage, RejectsBadEnvelopes) {
  Identities ids;
  SecretBytes mac_key = random_secret(32);
  Result<SignalMessage> m =
      SignalMessage::create(KeyPair::generate().public_key, 1, 0, random_bytes(16), mac_key.view(),
                            ids.sender, ids.receiver);
  ASSERT_TRUE(m.ok());
  Bytes wire = m->serialize();

  Bytes v2 = wire;
  v2[0] = 0x23;
  EXPECT_EQ(SignalMessage::parse(v2).status().code(), ErrorCode::kUnsupportedVersion);
  Bytes v4 = wire;
  v4[0] = 0x43;
  EXPECT_EQ(SignalMessage::parse(v4).status().code(), ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(SignalMessage::parse(Bytes(kMaxMessageSize + 1, 0x33)).status().code(),
            ErrorCode::kTooLarge);

  // Missing ciphertext.
  Bytes no_ciphertext{0x33};
  put_bytes_field(no_ciphertext, 1, KeyPair::generate().public_key.serialize());
  put_varint_field(no_ciphertext, 2, 1);
  append(no_ciphertext, Bytes(8, 0));
  EXPECT_EQ(SignalMessage::parse(no_ciphertext).status().code(), ErrorCode::kMalformedInput);
  // Ratchet key without the 0x05 type byte.
  Bytes bad_key{0x33};
  put_bytes_field(bad_key, 1, KeyPair::generate().public_key.raw());
  put_varint_field(bad_key, 2, 1);
  put_bytes_field(bad_key, 4, Bytes(16, 1));
  append(bad_key, Bytes(8, 0));
  EXPECT_EQ(SignalMessage::parse(bad_key).status().code(), ErrorCode::kInvalidKey);
}

TEST(PreKeySignalMessage, RoundTripAndLayout) {
  Identities ids;
  SecretBytes mac_key = random_secret(32);
  Result<SignalMessage> inner =
      SignalMessage::create(KeyPair::generate().public_key, 0, 0, random_bytes(32), mac_key.view(),
                            ids.sender, ids.receiver);
  ASSERT_TRUE(inner.ok());
  PublicKey base = KeyPair::generate().public_key;
  Bytes inner_wire = inner->serialize();
  Result<PreKeySignalMessage> m =
      PreKeySignalMessage::create(1234, 42u, 7, base, ids.sender, std::move(*inner));
  ASSERT_TRUE(m.ok());

  Result<PreKeySignalMessage> parsed = PreKeySignalMessage::parse(m->serialize());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->registration_id(), 1234u);
  EXPECT_EQ(parsed->pre_key_id(), std::optional<std::uint32_t>(42));
  EXPECT_EQ(parsed->signed_pre_key_id(), 7u);
  EXPECT_EQ(parsed->base_key(), base);
  EXPECT_EQ(parsed->identity_key(), ids.sender);
  EXPECT_EQ(parsed->message().serialize(), inner_wire);

  // A libsignal-style encoding (fields in libsignal's numbering, any order) parses the same.
  Bytes hand{0x33};
  put_bytes_field(hand, 2, base.serialize());
  put_bytes_field(hand, 3, ids.sender.serialize());
  hand.push_back(4 << 3 | 2);
  hand.push_back(static_cast<std::uint8_t>(inner_wire.size()));
  append(hand, inner_wire);
  put_varint_field(hand, 5, 99);
  put_varint_field(hand, 6, 8);
  Result<PreKeySignalMessage> from_hand = PreKeySignalMessage::parse(hand);
  ASSERT_TRUE(from_hand.ok());
  EXPECT_EQ(from_hand->registration_id(), 99u);
  EXPECT_FALSE(from_hand->pre_key_id().has_value());
  EXPECT_EQ(from_hand->signed_pre_key_id(), 8u);

  // Without the signed prekey id it is incomplete.
  Bytes incomplete{0x33};
  put_bytes_field(incomplete, 2, base.serialize());
  put_bytes_field(incomplete, 3, ids.sender.serialize());
  EXPECT_EQ(PreKeySignalMessage::parse(incomplete).status().code(), ErrorCode::kMalformedInput);
}

TEST(SenderKeyMessage, SignedRoundTrip) {
  KeyPair signing = KeyPair::generate();
  Bytes ciphertext = random_bytes(32);
  Result<SenderKeyMessage> m = SenderKeyMessage::create(77, 5, ciphertext, signing.private_key);
  ASSERT_TRUE(m.ok());
  Bytes wire = m->serialize();
  Bytes expected{0x33};
  put_varint_field(expected, 1, 77);
  put_varint_field(expected, 2, 5);
  put_bytes_field(expected, 3, ciphertext);
  ASSERT_EQ(wire.size(), expected.size() + 64);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), wire.begin()));

  Result<SenderKeyMessage> parsed = SenderKeyMessage::parse(wire);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->key_id(), 77u);
  EXPECT_EQ(parsed->iteration(), 5u);
  EXPECT_EQ(parsed->ciphertext(), ciphertext);
  EXPECT_TRUE(parsed->verify_signature(signing.public_key).ok());
  EXPECT_EQ(parsed->verify_signature(KeyPair::generate().public_key).code(),
            ErrorCode::kBadSignature);
  Bytes tampered = wire;
  tampered[3] ^= 1;
  Result<SenderKeyMessage> t = SenderKeyMessage::parse(tampered);
  if (t.ok()) {
    EXPECT_EQ(t->verify_signature(signing.public_key).code(), ErrorCode::kBadSignature);
  }
}

TEST(SenderKeyDistributionMessage, RoundTrip) {
  KeyPair signing = KeyPair::generate();
  SecretBytes chain = random_secret(32);
  Result<SenderKeyDistributionMessage> m =
      SenderKeyDistributionMessage::create(9, 3, chain.view(), signing.public_key);
  ASSERT_TRUE(m.ok());
  Bytes expected{0x33};
  put_varint_field(expected, 1, 9);
  put_varint_field(expected, 2, 3);
  put_bytes_field(expected, 3, chain.view());
  put_bytes_field(expected, 4, signing.public_key.serialize());
  EXPECT_EQ(m->serialize(), expected);
  Result<SenderKeyDistributionMessage> parsed = SenderKeyDistributionMessage::parse(expected);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->key_id(), 9u);
  EXPECT_EQ(parsed->iteration(), 3u);
  EXPECT_EQ(parsed->chain_key(), chain);
  EXPECT_EQ(parsed->signing_key(), signing.public_key);
  EXPECT_EQ(
      SenderKeyDistributionMessage::create(9, 3, Bytes(31, 0), signing.public_key).status().code(),
      ErrorCode::kInvalidArgument);
}

// Every proper prefix of a valid message is an error; random garbage and bit flips give an error
// or a value, never a crash.
template <typename T>
void expect_robust(const Bytes& valid, std::mt19937& rng) {
  ASSERT_TRUE(T::parse(valid).ok());
  // The last field of every message is required or length-delimited, so every proper prefix is
  // incomplete.
  for (std::size_t n = 0; n < valid.size(); ++n) {
    EXPECT_FALSE(T::parse(ByteView(valid).first(n)).ok()) << n;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 300; ++i) {
    Bytes garbage(static_cast<std::size_t>(i % 120));
    for (auto& b : garbage) b = static_cast<std::uint8_t>(byte(rng));
    if (!garbage.empty() && i % 2 == 0) garbage[0] = 0x33;
    Result<T> r = T::parse(garbage);
    (void)r;
  }
  // Single bit flips of a valid message.
  for (std::size_t i = 0; i < valid.size(); ++i) {
    Bytes flipped = valid;
    flipped[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    Result<T> r = T::parse(flipped);
    (void)r;
  }
}

TEST(WireParsers, TruncatedAndGarbageInputNeverCrash) {
  std::mt19937 rng(12345);
  Identities ids;
  SecretBytes mac_key = random_secret(32);
  KeyPair signing = KeyPair::generate();
  Result<SignalMessage> sm =
      SignalMessage::create(KeyPair::generate().public_key, 3, 2, random_bytes(64), mac_key.view(),
                            ids.sender, ids.receiver);
  ASSERT_TRUE(sm.ok());
  Bytes sm_wire = sm->serialize();
  Result<PreKeySignalMessage> pk = PreKeySignalMessage::create(
      5, 6u, 7, KeyPair::generate().public_key, ids.sender, std::move(*sm));
  ASSERT_TRUE(pk.ok());
  Result<SenderKeyMessage> skm =
      SenderKeyMessage::create(1, 2, random_bytes(32), signing.private_key);
  ASSERT_TRUE(skm.ok());
  SecretBytes chain = random_secret(32);
  Result<SenderKeyDistributionMessage> skdm =
      SenderKeyDistributionMessage::create(1, 2, chain.view(), signing.public_key);
  ASSERT_TRUE(skdm.ok());

  expect_robust<SignalMessage>(sm_wire, rng);
  expect_robust<PreKeySignalMessage>(pk->serialize(), rng);
  expect_robust<SenderKeyMessage>(skm->serialize(), rng);
  expect_robust<SenderKeyDistributionMessage>(skdm->serialize(), rng);

  // Cutting the protobuf body of a distribution message loses a required field.
  Bytes d = skdm->serialize();
  EXPECT_FALSE(SenderKeyDistributionMessage::parse(ByteView(d).first(d.size() - 1)).ok());
  Bytes p = pk->serialize();
  EXPECT_FALSE(PreKeySignalMessage::parse(ByteView(p).first(p.size() - 1)).ok());
}

}  // namespace
}  // namespace parley::crypto
