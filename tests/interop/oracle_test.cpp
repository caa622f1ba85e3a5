// SPDX-License-Identifier: AGPL-3.0-or-later
// The oracle against itself. Two libsignal-protocol-c peers through LibsignalPeer must do
// everything the cross-implementation tests later ask of Parley; if these fail, the harness is
// wrong, not the code under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "conversation.h"
#include "libsignal_peer.h"
#include "oracle_endpoint.h"

namespace parley::interop {
namespace {

OracleBytes text(const std::string& s) {
  return OracleBytes(s.begin(), s.end());
}

struct Pair {
  std::unique_ptr<LibsignalPeer> alice = LibsignalPeer::create("alice", 1);
  std::unique_ptr<LibsignalPeer> bob = LibsignalPeer::create("bob", 7);
};

TEST(OracleTest, BundleHasSignalShapesAndAValidSignature) {
  auto bob = LibsignalPeer::create("bob", 3);
  ASSERT_NE(bob, nullptr);
  auto bundle = bob->make_bundle(11, 22);
  ASSERT_TRUE(bundle.ok()) << bundle.error;
  const OracleBundle& b = bundle.value;
  EXPECT_EQ(b.device_id, 3);
  EXPECT_EQ(b.registration_id, bob->registration_id());
  ASSERT_EQ(b.identity_key.size(), 33u);
  EXPECT_EQ(b.identity_key[0], 0x05);
  ASSERT_EQ(b.signed_pre_key_public.size(), 33u);
  EXPECT_EQ(b.signed_pre_key_public[0], 0x05);
  ASSERT_EQ(b.pre_key_public.size(), 33u);
  EXPECT_EQ(b.pre_key_public[0], 0x05);
  EXPECT_EQ(b.pre_key_id, 22u);
  ASSERT_EQ(b.signed_pre_key_signature.size(), 64u);
  EXPECT_EQ(bob->identity_private().size(), 32u);
  EXPECT_TRUE(bob->has_pre_key(22));

  EXPECT_EQ(
      oracle_verify_signature(b.identity_key, b.signed_pre_key_public, b.signed_pre_key_signature),
      1);
  OracleBytes forged = b.signed_pre_key_signature;
  forged[5] ^= 0x01;
  EXPECT_EQ(oracle_verify_signature(b.identity_key, b.signed_pre_key_public, forged), 0);
}

TEST(OracleTest, BundleWithForgedSignatureIsRejected) {
  Pair p;
  auto bundle = p.bob->make_bundle(1, 2);
  ASSERT_TRUE(bundle.ok());
  bundle.value.signed_pre_key_signature[0] ^= 0x40;
  EXPECT_EQ(p.alice->process_bundle(p.bob->address(), bundle.value), kSgErrInvalidKey);
  EXPECT_FALSE(p.alice->has_session(p.bob->address()));
}

void handshake_then_talk(bool one_time_pre_key) {
  Pair p;
  auto bundle =
      p.bob->make_bundle(5, one_time_pre_key ? std::optional<std::uint32_t>(9) : std::nullopt);
  ASSERT_TRUE(bundle.ok());
  ASSERT_EQ(p.alice->process_bundle(p.bob->address(), bundle.value), kSgOk);
  ASSERT_TRUE(p.alice->has_session(p.bob->address()));

  auto first = p.alice->encrypt(p.bob->address(), text("hello bob"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value.type, kTypePreKey);
  auto info = oracle_inspect(kTypePreKey, first.value.bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info.value.version, 3);
  EXPECT_EQ(info.value.signed_pre_key_id, 5u);
  EXPECT_EQ(info.value.registration_id, p.alice->registration_id());
  EXPECT_EQ(info.value.pre_key_id.has_value(), one_time_pre_key);
  EXPECT_EQ(first.value.bytes[0], 0x33);

  auto got = p.bob->decrypt(p.alice->address(), first.value.type, first.value.bytes);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.value, text("hello bob"));
  EXPECT_FALSE(p.bob->has_pre_key(9));  // a one-time prekey is used once

  // Replaying the prekey message must not decrypt twice.
  auto replay = p.bob->decrypt(p.alice->address(), first.value.type, first.value.bytes);
  EXPECT_FALSE(replay.ok());

  auto reply = p.bob->encrypt(p.alice->address(), text("hi alice"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.value.type, kTypeSignal);
  got = p.alice->decrypt(p.bob->address(), reply.value.type, reply.value.bytes);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.value, text("hi alice"));

  // After a reply the initiator stops sending prekey messages.
  auto next = p.alice->encrypt(p.bob->address(), text("again"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.value.type, kTypeSignal);
}

TEST(OracleTest, HandshakeWithOneTimePreKey) {
  handshake_then_talk(true);
}
TEST(OracleTest, HandshakeWithoutOneTimePreKey) {
  handshake_then_talk(false);
}

// Establishes alice→bob and returns endpoints ready for a conversation.
void establish(Pair& p) {
  auto bundle = p.bob->make_bundle(1, 100);
  ASSERT_TRUE(bundle.ok());
  ASSERT_EQ(p.alice->process_bundle(p.bob->address(), bundle.value), kSgOk);
  auto first = p.alice->encrypt(p.bob->address(), text("x"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(p.bob->decrypt(p.alice->address(), first.value.type, first.value.bytes).ok());
}

TEST(OracleTest, ThousandMessagesRandomDirections) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(establish(p));
  Endpoint a = oracle_endpoint(*p.alice, p.bob->address());
  Endpoint b = oracle_endpoint(*p.bob, p.alice->address());
  ConversationOptions options;
  options.seed = 20261123;
  options.messages = 1000;
  ConversationStats stats;
  EXPECT_EQ(run_conversation(a, b, options, &stats), "");
  EXPECT_EQ(stats.delivered, 1000);
  EXPECT_GT(stats.ratchet_turns, 300);
}

TEST(OracleTest, OutOfOrderAndDroppedMessages) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(establish(p));
  Endpoint a = oracle_endpoint(*p.alice, p.bob->address());
  Endpoint b = oracle_endpoint(*p.bob, p.alice->address());
  ConversationOptions options;
  options.seed = 7;
  options.messages = 1000;
  options.reorder = 0.3;
  options.drop = 0.1;
  ConversationStats stats;
  EXPECT_EQ(run_conversation(a, b, options, &stats), "");
  EXPECT_GT(stats.delivered_late, 100);
  EXPECT_GT(stats.dropped, 50);
  EXPECT_EQ(stats.delivered + stats.dropped, stats.sent);
}

TEST(OracleTest, DuplicateIsRejected) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(establish(p));
  auto reply = p.bob->encrypt(p.alice->address(), text("once"));
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(p.alice->decrypt(p.bob->address(), reply.value.type, reply.value.bytes).ok());
  auto again = p.alice->decrypt(p.bob->address(), reply.value.type, reply.value.bytes);
  EXPECT_EQ(again.error, kSgErrDuplicateMessage);
}

TEST(OracleTest, TamperedMessageFailsMac) {
  Pair p;
  ASSERT_NO_FATAL_FAILURE(establish(p));
  auto reply = p.bob->encrypt(p.alice->address(), text("integrity"));
  ASSERT_TRUE(reply.ok());
  OracleBytes bad = reply.value.bytes;
  bad[bad.size() - 1] ^= 0x01;  // last byte of the truncated MAC
  // libsignal tries every session state it keeps and then reports the message invalid.
  const int error = p.alice->decrypt(p.bob->address(), reply.value.type, bad).error;
  EXPECT_TRUE(error == kSgErrInvalidMac || error == kSgErrInvalidMessage) << error;
  // The genuine message still decrypts afterwards.
  EXPECT_TRUE(p.alice->decrypt(p.bob->address(), reply.value.type, reply.value.bytes).ok());
}

TEST(OracleTest, SenderKeysOutOfOrder) {
  Pair p;
  auto distribution = p.alice->sender_key_distribution("group-1");
  ASSERT_TRUE(distribution.ok());
  auto info = oracle_inspect(kTypeSenderKeyDistribution, distribution.value);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info.value.version, 3);
  EXPECT_EQ(info.value.iteration, 0u);
  ASSERT_EQ(
      p.bob->process_sender_key_distribution("group-1", p.alice->address(), distribution.value),
      kSgOk);

  std::mt19937 rng(42);
  std::vector<std::pair<OracleBytes, OracleBytes>> sent;  // plaintext, ciphertext
  for (int i = 0; i < 150; ++i) {
    OracleBytes plaintext = text("group message " + std::to_string(i));
    auto c = p.alice->group_encrypt("group-1", plaintext);
    ASSERT_TRUE(c.ok());
    auto ci = oracle_inspect(kTypeSenderKey, c.value);
    ASSERT_TRUE(ci.ok());
    EXPECT_EQ(ci.value.iteration, static_cast<std::uint32_t>(i));
    EXPECT_EQ(ci.value.key_id, info.value.key_id);
    sent.emplace_back(plaintext, c.value);
  }
  std::shuffle(sent.begin(), sent.end(), rng);
  for (const auto& [plaintext, ciphertext] : sent) {
    auto got = p.bob->group_decrypt("group-1", p.alice->address(), ciphertext);
    ASSERT_TRUE(got.ok()) << got.error;
    EXPECT_EQ(got.value, plaintext);
  }
  // Each group message decrypts once.
  EXPECT_EQ(p.bob->group_decrypt("group-1", p.alice->address(), sent[0].second).error,
            kSgErrDuplicateMessage);
  // A member who never got the distribution cannot read.
  auto carol = LibsignalPeer::create("carol", 1);
  EXPECT_FALSE(carol->group_decrypt("group-1", p.alice->address(), sent[1].second).ok());
}

TEST(OracleTest, SignaturesAndImportedIdentity) {
  auto alice = LibsignalPeer::create("alice", 1);
  auto sig = alice->sign(text("message to sign"));
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(sig.value.size(), 64u);
  EXPECT_EQ(oracle_verify_signature(alice->identity_public(), text("message to sign"), sig.value),
            1);
  EXPECT_EQ(oracle_verify_signature(alice->identity_public(), text("message to sigN"), sig.value),
            0);

  auto twin = LibsignalPeer::create_with_identity("alice", 2, alice->identity_private(), 77);
  ASSERT_NE(twin, nullptr);
  EXPECT_EQ(twin->identity_public(), alice->identity_public());
  EXPECT_EQ(twin->registration_id(), 77u);
}

TEST(OracleTest, FingerprintsAgreeFromBothSides) {
  Pair p;
  auto from_alice =
      oracle_fingerprint("alice", p.alice->identity_public(), "bob", p.bob->identity_public());
  auto from_bob =
      oracle_fingerprint("bob", p.bob->identity_public(), "alice", p.alice->identity_public());
  ASSERT_TRUE(from_alice.ok());
  ASSERT_TRUE(from_bob.ok());
  EXPECT_EQ(from_alice.value.displayable.size(), 60u);
  EXPECT_EQ(from_alice.value.displayable, from_bob.value.displayable);
  auto other = oracle_fingerprint("alice", p.alice->identity_public(), "carol",
                                  LibsignalPeer::create("carol")->identity_public());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other.value.displayable, from_alice.value.displayable);
}

}  // namespace
}  // namespace parley::interop
