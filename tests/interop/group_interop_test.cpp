// SPDX-License-Identifier: AGPL-3.0-or-later
// Sender Keys between Parley and libsignal-protocol-c: a distribution message from either side is
// processed by the other, then group messages decrypt in any order, exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "libsignal_peer.h"
#include "parley/crypto/messages.h"
#include "parley_peer.h"

namespace parley::interop {
namespace {

constexpr int kGroupMessages = 150;

Bytes text(const std::string& s) {
  return to_bytes(s);
}

struct Sent {
  Bytes plaintext;
  Bytes ciphertext;
};

// Shuffles, then holds back every seventh message to the very end (a long gap).
void scramble(std::vector<Sent>& sent, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::shuffle(sent.begin(), sent.end(), rng);
  std::stable_partition(sent.begin(), sent.end(),
                        [&](const Sent& s) { return s.plaintext.size() % 7 != 0; });
}

TEST(GroupInteropTest, LibsignalSendsParleyReceives) {
  auto sender = LibsignalPeer::create("ls-sender", 3);
  ParleyPeer member("parley-member", 1);
  const std::string group = "group-from-libsignal";

  auto distribution = sender->sender_key_distribution(group);
  ASSERT_TRUE(distribution.ok());
  auto parsed = crypto::SenderKeyDistributionMessage::parse(distribution.value);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->iteration(), 0u);
  EXPECT_EQ(parsed->chain_key().size(), 32u);
  EXPECT_EQ(parsed->serialize(), distribution.value);  // re-serializes to the same bytes
  ASSERT_TRUE(
      member.process_sender_key_distribution(group, sender->address(), distribution.value).ok());

  std::vector<Sent> sent;
  for (int i = 0; i < kGroupMessages; ++i) {
    Bytes plaintext =
        text("group message number " + std::string(static_cast<std::size_t>(i % 40), 'x'));
    plaintext.push_back(static_cast<std::uint8_t>(i));
    auto c = sender->group_encrypt(group, plaintext);
    ASSERT_TRUE(c.ok());
    auto m = crypto::SenderKeyMessage::parse(c.value);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    EXPECT_EQ(m->iteration(), static_cast<std::uint32_t>(i));
    EXPECT_EQ(m->key_id(), parsed->key_id());
    EXPECT_TRUE(m->verify_signature(parsed->signing_key()).ok());
    sent.push_back({plaintext, c.value});
  }
  scramble(sent, 5);
  for (const Sent& s : sent) {
    auto got = member.group_decrypt(group, sender->address(), s.ciphertext);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(*got, s.plaintext);
  }
  EXPECT_EQ(member.group_decrypt(group, sender->address(), sent[3].ciphertext).status().code(),
            ErrorCode::kDuplicateMessage);

  Bytes forged = sent[0].ciphertext;
  forged[forged.size() - 70] ^= 0x01;  // inside the body, covered by the signature
  EXPECT_FALSE(member.group_decrypt(group, sender->address(), forged).ok());
}

TEST(GroupInteropTest, ParleySendsLibsignalReceives) {
  ParleyPeer sender("parley-sender", 2);
  auto member = LibsignalPeer::create("ls-member", 4);
  const std::string group = "group-from-parley";

  auto distribution = sender.sender_key_distribution(group);
  ASSERT_TRUE(distribution.ok()) << distribution.status().to_string();
  auto info = oracle_inspect(kTypeSenderKeyDistribution, *distribution);
  ASSERT_TRUE(info.ok()) << "libsignal cannot parse Parley's distribution: " << info.error;
  EXPECT_EQ(info.value.version, 3);
  EXPECT_EQ(info.value.iteration, 0u);
  ASSERT_EQ(member->process_sender_key_distribution(group, sender.oracle_address(), *distribution),
            kSgOk);

  std::vector<Sent> sent;
  for (int i = 0; i < kGroupMessages; ++i) {
    Bytes plaintext = text(std::string(static_cast<std::size_t>(i % 50), 'p'));
    plaintext.push_back(static_cast<std::uint8_t>(i));
    auto c = sender.group_encrypt(group, plaintext);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto ci = oracle_inspect(kTypeSenderKey, *c);
    ASSERT_TRUE(ci.ok()) << ci.error;
    EXPECT_EQ(ci.value.iteration, static_cast<std::uint32_t>(i));
    EXPECT_EQ(ci.value.key_id, info.value.key_id);
    sent.push_back({plaintext, *c});
  }
  scramble(sent, 6);
  for (const Sent& s : sent) {
    auto got = member->group_decrypt(group, sender.oracle_address(), s.ciphertext);
    ASSERT_TRUE(got.ok()) << "libsignal error " << got.error;
    EXPECT_EQ(got.value, s.plaintext);
  }
  EXPECT_EQ(member->group_decrypt(group, sender.oracle_address(), sent[0].ciphertext).error,
            kSgErrDuplicateMessage);
}

// A distribution sent after the chain has moved on starts the receiver at that iteration.
TEST(GroupInteropTest, LateJoinerStartsAtCurrentIteration) {
  for (bool parley_sends : {true, false}) {
    SCOPED_TRACE(parley_sends ? "parley sends" : "libsignal sends");
    ParleyPeer parley("p", 1);
    auto oracle = LibsignalPeer::create("l", 1);
    const std::string group = "late";
    auto encrypt = [&](const Bytes& m) -> Bytes {
      if (parley_sends) return parley.group_encrypt(group, m).value();
      return oracle->group_encrypt(group, m).value;
    };
    // Create the chain and advance it by 10 before the member joins.
    if (parley_sends) {
      ASSERT_TRUE(parley.sender_key_distribution(group).ok());
    } else {
      ASSERT_TRUE(oracle->sender_key_distribution(group).ok());
    }
    for (int i = 0; i < 10; ++i) encrypt(text("before"));
    Bytes distribution = parley_sends ? parley.sender_key_distribution(group).value()
                                      : oracle->sender_key_distribution(group).value;
    auto info = oracle_inspect(kTypeSenderKeyDistribution, distribution);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info.value.iteration, 10u);
    Bytes later = encrypt(text("after joining"));
    if (parley_sends) {
      ASSERT_EQ(
          oracle->process_sender_key_distribution(group, parley.oracle_address(), distribution),
          kSgOk);
      auto got = oracle->group_decrypt(group, parley.oracle_address(), later);
      ASSERT_TRUE(got.ok()) << got.error;
      EXPECT_EQ(got.value, text("after joining"));
    } else {
      ASSERT_TRUE(
          parley.process_sender_key_distribution(group, oracle->address(), distribution).ok());
      auto got = parley.group_decrypt(group, oracle->address(), later);
      ASSERT_TRUE(got.ok()) << got.status().to_string();
      EXPECT_EQ(*got, text("after joining"));
    }
  }
}

}  // namespace
}  // namespace parley::interop
