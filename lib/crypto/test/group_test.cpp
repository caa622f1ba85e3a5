// SPDX-License-Identifier: AGPL-3.0-or-later
#include <gtest/gtest.h>

#include <random>

#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"
#include "parley/crypto/in_memory_stores.h"

namespace parley::crypto {
namespace {

const SenderKeyName& alice_in_group() {
  static const SenderKeyName name{"group-1", {"alice", 1}};
  return name;
}

std::string text(const SecretBytes& bytes) {
  return std::string(as_string_view(bytes.view()));
}

struct Group {
  InMemorySenderKeyStore alice_store;
  InMemorySenderKeyStore bob_store;
  GroupCipher alice{alice_store, alice_in_group()};
  GroupCipher bob{bob_store, alice_in_group()};

  void distribute() {
    Result<SenderKeyDistributionMessage> d =
        GroupSessionBuilder(alice_store).create(alice_in_group());
    ASSERT_TRUE(d.ok());
    // It travels as bytes over a pairwise session.
    Result<SenderKeyDistributionMessage> received =
        SenderKeyDistributionMessage::parse(d->serialize());
    ASSERT_TRUE(received.ok());
    ASSERT_TRUE(GroupSessionBuilder(bob_store).process(alice_in_group(), *received).ok());
  }
};

TEST(Group, EncryptDecryptInOrder) {
  Group g;
  g.distribute();
  for (int i = 0; i < 5; ++i) {
    std::string m = "hello group " + std::to_string(i);
    Result<SenderKeyMessage> c = g.alice.encrypt(as_bytes(m));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->iteration(), static_cast<std::uint32_t>(i));
    Result<SecretBytes> p = g.bob.decrypt(c->serialize());
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    EXPECT_EQ(text(*p), m);
  }
}

TEST(Group, DistributionIsStableAndLateJoinersStartAtCurrentIteration) {
  Group g;
  g.distribute();
  ASSERT_TRUE(g.alice.encrypt(as_bytes("before")).ok());
  Result<SenderKeyDistributionMessage> d1 =
      GroupSessionBuilder(g.alice_store).create(alice_in_group());
  Result<SenderKeyDistributionMessage> d2 =
      GroupSessionBuilder(g.alice_store).create(alice_in_group());
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_EQ(d1->key_id(), d2->key_id());
  EXPECT_EQ(d1->iteration(), 1u);
  EXPECT_LE(d1->key_id(), 0x7FFFFFFFu);

  InMemorySenderKeyStore carol_store;
  ASSERT_TRUE(GroupSessionBuilder(carol_store).process(alice_in_group(), *d1).ok());
  Result<SenderKeyMessage> c = g.alice.encrypt(as_bytes("after"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(text(*GroupCipher(carol_store, alice_in_group()).decrypt(*c)), "after");
}

TEST(Group, OutOfOrderDuplicatesAndLimits) {
  Group g;
  g.distribute();
  std::vector<SenderKeyMessage> sent;
  for (int i = 0; i < 50; ++i) sent.push_back(*g.alice.encrypt(as_bytes(std::to_string(i))));
  std::mt19937 rng(7);
  std::vector<int> order(50);
  for (int i = 0; i < 50; ++i) order[static_cast<std::size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order) {
    Result<SecretBytes> p = g.bob.decrypt(sent[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(p.ok()) << i << " " << p.status().to_string();
    EXPECT_EQ(text(*p), std::to_string(i));
  }
  for (int i : {0, 17, 49}) {
    EXPECT_EQ(g.bob.decrypt(sent[static_cast<std::size_t>(i)]).status().code(),
              ErrorCode::kDuplicateMessage);
  }
  // Re-processing the distribution message must not rewind the chain (no replays that way).
  g.distribute();
  EXPECT_EQ(g.bob.decrypt(sent[3]).status().code(), ErrorCode::kDuplicateMessage);

  for (std::uint32_t i = 0; i < kMaxSkippedMessages + 1; ++i) {
    ASSERT_TRUE(g.alice.encrypt(as_bytes("skip")).ok());
  }
  Result<SenderKeyMessage> far = g.alice.encrypt(as_bytes("far"));
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(g.bob.decrypt(*far).status().code(), ErrorCode::kTooManySkipped);
}

TEST(Group, RejectsForgeriesAndUnknownSenders) {
  Group g;
  g.distribute();
  Result<SenderKeyMessage> c = g.alice.encrypt(as_bytes("signed"));
  ASSERT_TRUE(c.ok());
  Bytes wire = c->serialize();
  Bytes bad_sig = wire;
  bad_sig.back() ^= 1;
  EXPECT_EQ(g.bob.decrypt(bad_sig).status().code(), ErrorCode::kBadSignature);
  // Someone who knows the chain key but not the signing key cannot forge messages.
  KeyPair forger = KeyPair::generate();
  Result<SenderKeyMessage> forged =
      SenderKeyMessage::create(c->key_id(), 1, Bytes(16, 0), forger.private_key);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(g.bob.decrypt(*forged).status().code(), ErrorCode::kBadSignature);
  // The genuine message still decrypts after those failures.
  EXPECT_EQ(text(*g.bob.decrypt(wire)), "signed");

  InMemorySenderKeyStore stranger;
  EXPECT_EQ(GroupCipher(stranger, alice_in_group()).decrypt(wire).status().code(),
            ErrorCode::kNoSession);
  EXPECT_EQ(GroupCipher(stranger, alice_in_group()).encrypt(as_bytes("x")).status().code(),
            ErrorCode::kNoSession);
  // A receiver cannot send on the sender's chain.
  EXPECT_EQ(g.bob.encrypt(as_bytes("x")).status().code(), ErrorCode::kNoSession);
}

TEST(SenderKeyRecord, RoundTripsAndRejectsGarbage) {
  Group g;
  g.distribute();
  ASSERT_TRUE(g.alice.encrypt(as_bytes("a")).ok());
  Result<SenderKeyMessage> second = g.alice.encrypt(as_bytes("b"));
  ASSERT_TRUE(g.bob.decrypt(*second).ok());  // leaves one skipped key
  Result<std::optional<SenderKeyRecord>> r = g.bob_store.load_sender_key(alice_in_group());
  ASSERT_TRUE(r.ok() && r->has_value());
  SecretBytes bytes = (*r)->serialize();
  Result<SenderKeyRecord> back = SenderKeyRecord::parse(bytes.view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->serialize(), bytes);
  EXPECT_EQ(back->newest_state()->skipped.size(), 1u);
  EXPECT_FALSE(SenderKeyRecord::parse(as_bytes("\xff\xff")).ok());
  for (std::size_t n = 0; n < bytes.size(); n += 5) {
    Result<SenderKeyRecord> cut = SenderKeyRecord::parse(bytes.view().first(n));
    (void)cut;
  }
}

}  // namespace
}  // namespace parley::crypto
