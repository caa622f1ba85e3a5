// SPDX-License-Identifier: AGPL-3.0-or-later
// Pairwise sessions between Parley and libsignal-protocol-c, started from either side: every
// ciphertext one implementation produces, the other must decrypt, through handshakes, long
// conversations, reordering, loss, replays and tampering.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>

#include "conversation.h"
#include "libsignal_peer.h"
#include "oracle_endpoint.h"
#include "parley/crypto/messages.h"
#include "parley_peer.h"

namespace parley::interop {
namespace {

using crypto::MessageType;

Bytes text(const std::string& s) {
  return to_bytes(s);
}

struct Peers {
  ParleyPeer parley{"parley-user", 2};
  std::unique_ptr<LibsignalPeer> oracle = LibsignalPeer::create("libsignal-user", 5);
};

// --- handshakes ---------------------------------------------------------------------------------

class ParleyInitiates : public ::testing::TestWithParam<bool> {};

TEST_P(ParleyInitiates, PreKeyMessageThenReply) {
  const bool one_time = GetParam();
  Peers p;
  auto bundle =
      p.oracle->make_bundle(31, one_time ? std::optional<std::uint32_t>(41) : std::nullopt);
  ASSERT_TRUE(bundle.ok());
  auto parley_bundle = to_parley(bundle.value);
  ASSERT_TRUE(parley_bundle.ok()) << parley_bundle.status().to_string();
  ASSERT_TRUE(p.parley.process_bundle(p.oracle->address(), *parley_bundle).ok());

  auto first = p.parley.encrypt(p.oracle->address(), text("hello from parley"));
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->type, MessageType::kPreKey);
  auto info = oracle_inspect(kTypePreKey, first->bytes);
  ASSERT_TRUE(info.ok()) << "libsignal cannot parse Parley's PreKeySignalMessage: " << info.error;
  EXPECT_EQ(info.value.version, 3);
  EXPECT_EQ(info.value.registration_id, p.parley.registration_id());
  EXPECT_EQ(info.value.signed_pre_key_id, 31u);
  EXPECT_EQ(info.value.pre_key_id, one_time ? std::optional<std::uint32_t>(41) : std::nullopt);
  EXPECT_EQ(info.value.counter, 0u);

  auto got = p.oracle->decrypt(p.parley.oracle_address(), kTypePreKey, first->bytes);
  ASSERT_TRUE(got.ok()) << "libsignal error " << got.error;
  EXPECT_EQ(got.value, text("hello from parley"));
  if (one_time) {
    EXPECT_FALSE(p.oracle->has_pre_key(41));
  }

  // Until the reply, Parley keeps sending prekey messages, and libsignal reads them.
  auto second = p.parley.encrypt(p.oracle->address(), text("still waiting"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->type, MessageType::kPreKey);
  got = p.oracle->decrypt(p.parley.oracle_address(), kTypePreKey, second->bytes);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.value, text("still waiting"));

  auto reply = p.oracle->encrypt(p.parley.oracle_address(), text("hello from libsignal"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.value.type, kTypeSignal);
  auto back = p.parley.decrypt(p.oracle->address(), reply.value.type, reply.value.bytes);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, text("hello from libsignal"));

  auto third = p.parley.encrypt(p.oracle->address(), text("now a plain message"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->type, MessageType::kSignal);
  got = p.oracle->decrypt(p.parley.oracle_address(), kTypeSignal, third->bytes);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.value, text("now a plain message"));
}

INSTANTIATE_TEST_SUITE_P(OneTimePreKey, ParleyInitiates, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "With" : "Without"; });

class LibsignalInitiates : public ::testing::TestWithParam<bool> {};

TEST_P(LibsignalInitiates, PreKeyMessageThenReply) {
  const bool one_time = GetParam();
  Peers p;
  crypto::PreKeyBundle bundle =
      p.parley.make_bundle(8, one_time ? std::optional<std::uint32_t>(9) : std::nullopt);
  const OracleBundle oracle_bundle = to_oracle(bundle);
  // libsignal checks Parley's signed prekey signature here.
  ASSERT_EQ(p.oracle->process_bundle(p.parley.oracle_address(), oracle_bundle), kSgOk);

  auto first = p.oracle->encrypt(p.parley.oracle_address(), text("hello from libsignal"));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.value.type, kTypePreKey);
  auto parsed = crypto::PreKeySignalMessage::parse(first.value.bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->registration_id(), p.oracle->registration_id());
  EXPECT_EQ(parsed->pre_key_id(), one_time ? std::optional<std::uint32_t>(9) : std::nullopt);
  EXPECT_EQ(parsed->identity_key().serialize(), p.oracle->identity_public());

  auto got = p.parley.decrypt(p.oracle->address(), kTypePreKey, first.value.bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, text("hello from libsignal"));
  if (one_time) {
    EXPECT_FALSE(p.parley.has_pre_key(9));
  }

  // A replayed prekey message must not decrypt a second time.
  auto replay = p.parley.decrypt(p.oracle->address(), kTypePreKey, first.value.bytes);
  EXPECT_FALSE(replay.ok());

  auto reply = p.parley.encrypt(p.oracle->address(), text("hello from parley"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->type, MessageType::kSignal);
  auto back = p.oracle->decrypt(p.parley.oracle_address(), kTypeSignal, reply->bytes);
  ASSERT_TRUE(back.ok()) << "libsignal error " << back.error;
  EXPECT_EQ(back.value, text("hello from parley"));

  auto next = p.oracle->encrypt(p.parley.oracle_address(), text("plain now"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.value.type, kTypeSignal);
  got = p.parley.decrypt(p.oracle->address(), kTypeSignal, next.value.bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, text("plain now"));
}

INSTANTIATE_TEST_SUITE_P(OneTimePreKey, LibsignalInitiates, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "With" : "Without"; });

TEST(SessionInteropTest, ParleyRejectsLibsignalBundleWithForgedSignature) {
  Peers p;
  auto bundle = p.oracle->make_bundle(1, 2);
  ASSERT_TRUE(bundle.ok());
  bundle.value.signed_pre_key_signature[10] ^= 0x01;
  auto parley_bundle = to_parley(bundle.value);
  ASSERT_TRUE(parley_bundle.ok());
  EXPECT_EQ(p.parley.process_bundle(p.oracle->address(), *parley_bundle).code(),
            ErrorCode::kBadSignature);
  EXPECT_FALSE(p.parley.has_session(p.oracle->address()));
}

TEST(SessionInteropTest, LibsignalRejectsParleyBundleWithForgedSignature) {
  Peers p;
  OracleBundle bundle = to_oracle(p.parley.make_bundle(1, 2));
  bundle.signed_pre_key_signature[3] ^= 0x80;
  EXPECT_EQ(p.oracle->process_bundle(p.parley.oracle_address(), bundle), kSgErrInvalidKey);
}

// Prekey messages may arrive in any order before the responder replies.
TEST(SessionInteropTest, PreKeyMessagesOutOfOrderBothWays) {
  for (bool parley_first : {true, false}) {
    SCOPED_TRACE(parley_first ? "parley initiates" : "libsignal initiates");
    Peers p;
    std::vector<std::pair<Bytes, OracleBytes>> sent;
    for (int i = 0; i < 6; ++i) {
      Bytes plaintext = text("early " + std::to_string(i));
      if (parley_first) {
        if (i == 0) {
          auto b = to_parley(p.oracle->make_bundle(3, 4).value);
          ASSERT_TRUE(b.ok());
          ASSERT_TRUE(p.parley.process_bundle(p.oracle->address(), *b).ok());
        }
        auto c = p.parley.encrypt(p.oracle->address(), plaintext);
        ASSERT_TRUE(c.ok());
        ASSERT_EQ(c->type, MessageType::kPreKey);
        sent.emplace_back(plaintext, c->bytes);
      } else {
        if (i == 0) {
          ASSERT_EQ(p.oracle->process_bundle(p.parley.oracle_address(),
                                             to_oracle(p.parley.make_bundle(3, 4))),
                    kSgOk);
        }
        auto c = p.oracle->encrypt(p.parley.oracle_address(), plaintext);
        ASSERT_TRUE(c.ok());
        ASSERT_EQ(c.value.type, kTypePreKey);
        sent.emplace_back(plaintext, c.value.bytes);
      }
    }
    std::reverse(sent.begin(), sent.end());
    for (const auto& [plaintext, bytes] : sent) {
      if (parley_first) {
        auto got = p.oracle->decrypt(p.parley.oracle_address(), kTypePreKey, bytes);
        ASSERT_TRUE(got.ok()) << got.error;
        EXPECT_EQ(got.value, plaintext);
      } else {
        auto got = p.parley.decrypt(p.oracle->address(), kTypePreKey, bytes);
        ASSERT_TRUE(got.ok()) << got.status().to_string();
        EXPECT_EQ(*got, plaintext);
      }
    }
  }
}

// --- conversations ------------------------------------------------------------------------------

// Runs the handshake with `parley_initiates` and returns after one message each way is proven.
void establish(Peers& p, bool parley_initiates) {
  if (parley_initiates) {
    auto b = to_parley(p.oracle->make_bundle(1, 100).value);
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(p.parley.process_bundle(p.oracle->address(), *b).ok());
    auto c = p.parley.encrypt(p.oracle->address(), text("hi"));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(p.oracle->decrypt(p.parley.oracle_address(), kTypePreKey, c->bytes).ok());
  } else {
    ASSERT_EQ(p.oracle->process_bundle(p.parley.oracle_address(),
                                       to_oracle(p.parley.make_bundle(1, 100))),
              kSgOk);
    auto c = p.oracle->encrypt(p.parley.oracle_address(), text("hi"));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(p.parley.decrypt(p.oracle->address(), kTypePreKey, c.value.bytes).ok());
  }
}

struct ConversationCase {
  const char* name;
  bool parley_initiates;
  double reorder;
  double drop;
  std::uint32_t seed;
};

void PrintTo(const ConversationCase& c, std::ostream* os) {
  *os << c.name;
}

class Conversation : public ::testing::TestWithParam<ConversationCase> {};

TEST_P(Conversation, EveryDeliveredMessageDecrypts) {
  const ConversationCase& c = GetParam();
  Peers p;
  ASSERT_NO_FATAL_FAILURE(establish(p, c.parley_initiates));
  Endpoint parley = parley_endpoint(p.parley, p.oracle->address());
  Endpoint oracle = oracle_endpoint(*p.oracle, p.parley.oracle_address());
  ConversationOptions options;
  options.seed = c.seed;
  options.messages = 1200;
  options.reorder = c.reorder;
  options.drop = c.drop;
  ConversationStats stats;
  EXPECT_EQ(run_conversation(parley, oracle, options, &stats), "");
  EXPECT_EQ(stats.sent, 1200);
  EXPECT_GT(stats.a_to_b, 450);
  EXPECT_GT(stats.b_to_a, 450);
  EXPECT_GT(stats.ratchet_turns, 400);
  EXPECT_EQ(stats.delivered + stats.dropped, stats.sent);
  if (c.reorder > 0) {
    EXPECT_GT(stats.delivered_late, 150);
  }
  if (c.drop > 0) {
    EXPECT_GT(stats.dropped, 50);
  }
}

INSTANTIATE_TEST_SUITE_P(
    RandomInterleaving, Conversation,
    ::testing::Values(ConversationCase{"ParleyInitiatesInOrder", true, 0, 0, 101},
                      ConversationCase{"LibsignalInitiatesInOrder", false, 0, 0, 202},
                      ConversationCase{"ParleyInitiatesReorderAndDrop", true, 0.3, 0.1, 303},
                      ConversationCase{"LibsignalInitiatesReorderAndDrop", false, 0.3, 0.1, 404}),
    [](const auto& test) { return test.param.name; });

// A long run in one direction with a gap: skipped keys are kept on both sides.
TEST(SessionInteropTest, LongGapsWithinOneChain) {
  for (bool parley_sends : {true, false}) {
    SCOPED_TRACE(parley_sends ? "parley sends" : "libsignal sends");
    Peers p;
    ASSERT_NO_FATAL_FAILURE(establish(p, true));
    auto reply = p.oracle->encrypt(p.parley.oracle_address(), text("ack"));
    ASSERT_TRUE(reply.ok());
    ASSERT_TRUE(p.parley.decrypt(p.oracle->address(), reply.value.type, reply.value.bytes).ok());

    std::vector<std::pair<int, OracleBytes>> sent;
    for (int i = 0; i < 500; ++i) {
      Bytes plaintext = text("n" + std::to_string(i));
      if (parley_sends) {
        auto c = p.parley.encrypt(p.oracle->address(), plaintext);
        ASSERT_TRUE(c.ok());
        sent.emplace_back(static_cast<int>(c->type), c->bytes);
      } else {
        auto c = p.oracle->encrypt(p.parley.oracle_address(), plaintext);
        ASSERT_TRUE(c.ok());
        sent.emplace_back(c.value.type, c.value.bytes);
      }
    }
    // Deliver the last first (skipping 499 keys), then the rest backwards.
    for (int i = 499; i >= 0; --i) {
      const auto& [type, bytes] = sent[static_cast<std::size_t>(i)];
      Bytes expected = text("n" + std::to_string(i));
      if (parley_sends) {
        auto got = p.oracle->decrypt(p.parley.oracle_address(), type, bytes);
        ASSERT_TRUE(got.ok()) << i << ": " << got.error;
        EXPECT_EQ(got.value, expected);
      } else {
        auto got = p.parley.decrypt(p.oracle->address(), type, bytes);
        ASSERT_TRUE(got.ok()) << i << ": " << got.status().to_string();
        EXPECT_EQ(*got, expected);
      }
    }
  }
}

// Padding edge cases and large bodies, both directions.
TEST(SessionInteropTest, MessageSizesAcrossBlockBoundaries) {
  Peers p;
  ASSERT_NO_FATAL_FAILURE(establish(p, true));
  for (std::size_t size : {0u, 1u, 15u, 16u, 17u, 31u, 32u, 33u, 4096u, 100000u}) {
    Bytes plaintext(size);
    for (std::size_t i = 0; i < size; ++i) plaintext[i] = static_cast<std::uint8_t>(i * 7);
    auto to_oracle = p.parley.encrypt(p.oracle->address(), plaintext);
    ASSERT_TRUE(to_oracle.ok()) << size;
    auto at_oracle = p.oracle->decrypt(p.parley.oracle_address(), static_cast<int>(to_oracle->type),
                                       to_oracle->bytes);
    ASSERT_TRUE(at_oracle.ok()) << size << ": " << at_oracle.error;
    EXPECT_EQ(at_oracle.value, plaintext);

    auto to_parley = p.oracle->encrypt(p.parley.oracle_address(), plaintext);
    ASSERT_TRUE(to_parley.ok()) << size;
    auto at_parley =
        p.parley.decrypt(p.oracle->address(), to_parley.value.type, to_parley.value.bytes);
    ASSERT_TRUE(at_parley.ok()) << size << ": " << at_parley.status().to_string();
    EXPECT_EQ(*at_parley, plaintext);
  }
}

// --- rejection ----------------------------------------------------------------------------------

TEST(SessionInteropTest, ParleyRejectsReplayAndTamperingOfLibsignalMessages) {
  Peers p;
  ASSERT_NO_FATAL_FAILURE(establish(p, true));  // so libsignal, the responder, sends plain messages
  auto c = p.oracle->encrypt(p.parley.oracle_address(), text("exactly once"));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c.value.type, kTypeSignal);

  OracleBytes bad_mac = c.value.bytes;
  bad_mac.back() ^= 0x01;
  auto r = p.parley.decrypt(p.oracle->address(), kTypeSignal, bad_mac);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == ErrorCode::kBadMac ||
              r.status().code() == ErrorCode::kDecryptFailed)
      << r.status().to_string();

  OracleBytes bad_body = c.value.bytes;
  bad_body[bad_body.size() - 12] ^= 0x20;  // inside the ciphertext, before the MAC
  EXPECT_FALSE(p.parley.decrypt(p.oracle->address(), kTypeSignal, bad_body).ok());

  // The genuine message still decrypts after the failures, once.
  auto got = p.parley.decrypt(p.oracle->address(), kTypeSignal, c.value.bytes);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, text("exactly once"));
  auto again = p.parley.decrypt(p.oracle->address(), kTypeSignal, c.value.bytes);
  EXPECT_EQ(again.status().code(), ErrorCode::kDuplicateMessage);
}

TEST(SessionInteropTest, LibsignalRejectsReplayAndTamperingOfParleyMessages) {
  Peers p;
  ASSERT_NO_FATAL_FAILURE(establish(p, false));
  auto c = p.parley.encrypt(p.oracle->address(), text("exactly once"));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->type, MessageType::kSignal);

  Bytes bad_mac = c->bytes;
  bad_mac.back() ^= 0x01;
  EXPECT_FALSE(p.oracle->decrypt(p.parley.oracle_address(), kTypeSignal, bad_mac).ok());

  auto got = p.oracle->decrypt(p.parley.oracle_address(), kTypeSignal, c->bytes);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.value, text("exactly once"));
  EXPECT_EQ(p.oracle->decrypt(p.parley.oracle_address(), kTypeSignal, c->bytes).error,
            kSgErrDuplicateMessage);
}

// What Parley puts on the wire is what libsignal expects to read, field by field.
TEST(SessionInteropTest, ParleyWireFieldsAsLibsignalSeesThem) {
  Peers p;
  ASSERT_NO_FATAL_FAILURE(establish(p, false));
  OracleBytes ratchet_key;
  for (std::uint32_t i = 0; i < 5; ++i) {
    auto c = p.parley.encrypt(p.oracle->address(), text("m"));
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->bytes[0], 0x33);
    auto info = oracle_inspect(kTypeSignal, c->bytes);
    ASSERT_TRUE(info.ok()) << info.error;
    EXPECT_EQ(info.value.version, 3);
    EXPECT_EQ(info.value.counter, i);
    ASSERT_EQ(info.value.ratchet_key.size(), 33u);
    EXPECT_EQ(info.value.ratchet_key[0], 0x05);
    if (i == 0) ratchet_key = info.value.ratchet_key;
    EXPECT_EQ(info.value.ratchet_key, ratchet_key);  // same chain until the peer answers
  }
}

}  // namespace
}  // namespace parley::interop
