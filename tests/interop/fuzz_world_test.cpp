// SPDX-License-Identifier: AGPL-3.0-or-later
// The fuzz targets' fixed devices (fuzz/fixed_world.h) really hold a working session, and the
// committed seeds in fuzz/corpus/ are genuine for it: otherwise fuzzing would never get past the
// MAC check and the seeds would test nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fixed_world.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/session_builder.h"
#include "parley/crypto/session_cipher.h"

namespace parley::fuzzing {
namespace {

using crypto::MessageType;
using crypto::SessionCipher;

std::vector<Bytes> seeds(const std::string& target) {
  std::vector<Bytes> out;
  const std::filesystem::path dir = std::filesystem::path(PARLEY_FUZZ_CORPUS_DIR) / target;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    // Only parley_fuzz_seeds' files belong to the fixed session; `libsignal-*` files do not.
    if (entry.path().filename().string().rfind("seed-", 0) != 0) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

TEST(FuzzWorldTest, AliceToBobSignalMessagesDecrypt) {
  const FixedWorld& world = fixed_world();
  auto alice = world.alice(false);
  auto bob = world.bob();
  SessionCipher sender(alice->stores(), world.bob_address);
  SessionCipher receiver(bob->stores(), world.alice_address);
  for (const char* text : {"", "one", "a somewhat longer message, over one block"}) {
    auto message = sender.encrypt(as_bytes(text));
    ASSERT_TRUE(message.ok()) << message.status().to_string();
    EXPECT_EQ(message->type, MessageType::kSignal);
    auto plaintext = receiver.decrypt(message->type, message->bytes);
    ASSERT_TRUE(plaintext.ok()) << plaintext.status().to_string();
    EXPECT_TRUE(plaintext->equals(as_bytes(text)));
  }
}

TEST(FuzzWorldTest, SameStateGivesSameCiphertext) {
  // Seeds are reproducible because nothing in a SignalMessage is random once the state is fixed.
  const FixedWorld& world = fixed_world();
  auto a1 = world.alice(false);
  auto a2 = world.alice(false);
  auto m1 = SessionCipher(a1->stores(), world.bob_address).encrypt(as_bytes("same"));
  auto m2 = SessionCipher(a2->stores(), world.bob_address).encrypt(as_bytes("same"));
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_EQ(m1->bytes, m2->bytes);
}

TEST(FuzzWorldTest, PreKeyMessagesDecryptOnTheKnownBaseKeyAndThroughX3dh) {
  const FixedWorld& world = fixed_world();
  auto alice = world.alice(true);
  auto message = SessionCipher(alice->stores(), world.bob_address).encrypt(as_bytes("pending"));
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->type, MessageType::kPreKey);
  auto bob = world.bob();
  auto plaintext =
      SessionCipher(bob->stores(), world.alice_address).decrypt(message->type, message->bytes);
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().to_string();
  EXPECT_TRUE(plaintext->equals(as_bytes("pending")));

  crypto::InMemoryProtocolStore initiator(world.alice_identity().clone(), 1111);
  ASSERT_TRUE(crypto::SessionBuilder(initiator.stores(), world.bob_address)
                  .process(world.bob_bundle())
                  .ok());
  auto fresh = SessionCipher(initiator.stores(), world.bob_address).encrypt(as_bytes("x3dh"));
  ASSERT_TRUE(fresh.ok());
  auto bob2 = world.bob();
  auto opened =
      SessionCipher(bob2->stores(), world.alice_address).decrypt(fresh->type, fresh->bytes);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  EXPECT_TRUE(opened->equals(as_bytes("x3dh")));
}

TEST(FuzzWorldTest, CommittedSessionSeedsDecrypt) {
  const FixedWorld& world = fixed_world();
  for (const auto& [target, type] : {std::pair{"signal_message", MessageType::kSignal},
                                     std::pair{"prekey_signal_message", MessageType::kPreKey}}) {
    const std::vector<Bytes> files = seeds(target);
    EXPECT_GE(files.size(), 3u) << "no seeds for " << target;
    for (const Bytes& seed : files) {
      auto bob = world.bob();
      auto plaintext = SessionCipher(bob->stores(), world.alice_address).decrypt(type, seed);
      EXPECT_TRUE(plaintext.ok()) << target << ": " << plaintext.status().to_string();
    }
  }
}

TEST(FuzzWorldTest, CommittedGroupSeedsDecrypt) {
  const FixedWorld& world = fixed_world();
  auto alice = world.alice(false);
  auto fresh = crypto::GroupCipher(alice->sender_keys, world.group_sender).encrypt(as_bytes("g"));
  ASSERT_TRUE(fresh.ok());
  std::vector<Bytes> files = seeds("sender_key_message");
  EXPECT_GE(files.size(), 3u);
  files.push_back(fresh->serialize());
  for (const Bytes& seed : files) {
    auto bob = world.bob();
    auto plaintext = crypto::GroupCipher(bob->sender_keys, world.group_sender).decrypt(seed);
    EXPECT_TRUE(plaintext.ok()) << plaintext.status().to_string();
  }
}

}  // namespace
}  // namespace parley::fuzzing
