// SPDX-License-Identifier: AGPL-3.0-or-later
// SenderKeyDistributionMessage: parse, re-serialize, rebuild, process into a fresh store, then
// decrypt a genuine group message from the fixed chain with whatever state that created.
#include <cstddef>
#include <cstdint>

#include "fixed_world.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/group_session_builder.h"
#include "parley/crypto/messages.h"

using namespace parley;

namespace {

bool same_fields(const crypto::SenderKeyDistributionMessage& a,
                 const crypto::SenderKeyDistributionMessage& b) {
  return a.key_id() == b.key_id() && a.iteration() == b.iteration() &&
         a.chain_key() == b.chain_key() && a.signing_key() == b.signing_key();
}

// Alice's genuine chain: its distribution message and one message on it (iteration 0).
struct Genuine {
  crypto::SenderKeyDistributionMessage distribution;
  Bytes probe;
};

const Genuine& genuine() {
  static const Genuine value = [] {
    const auto& world = parley::fuzzing::fixed_world();
    auto alice = world.alice(false);
    auto distribution = crypto::GroupSessionBuilder(alice->sender_keys).create(world.group_sender);
    PARLEY_FUZZ_CHECK(distribution.ok());
    auto message =
        crypto::GroupCipher(alice->sender_keys, world.group_sender).encrypt(as_bytes("probe"));
    PARLEY_FUZZ_CHECK(message.ok());
    return Genuine{std::move(distribution).value(), message->serialize()};
  }();
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();

  auto message = crypto::SenderKeyDistributionMessage::parse(in);
  if (!message.ok()) return 0;

  auto again = crypto::SenderKeyDistributionMessage::parse(message->serialize());
  PARLEY_FUZZ_CHECK(again.ok() && same_fields(*message, *again));
  auto rebuilt = crypto::SenderKeyDistributionMessage::create(
      message->key_id(), message->iteration(), message->chain_key().view(), message->signing_key());
  if (rebuilt.ok()) {
    auto reparsed = crypto::SenderKeyDistributionMessage::parse(rebuilt->serialize());
    PARLEY_FUZZ_CHECK(reparsed.ok() && same_fields(*message, *reparsed));
  }

  crypto::InMemorySenderKeyStore store;
  crypto::GroupSessionBuilder builder(store);
  const bool is_genuine = same_fields(*message, genuine().distribution);
  if (builder.process(world.group_sender, *message).ok()) {
    crypto::GroupCipher cipher(store, world.group_sender);
    auto plaintext = cipher.decrypt(genuine().probe);
    // The genuine chain, however it was encoded, must open the probe. Any other chain must not
    // verify it unless it carries the genuine signing key; with that key but another chain key,
    // Sender Key messages have no MAC, so a wrong key can still pass the PKCS#7 check (about
    // 1 in 256) and yield garbage: no claim is made about the plaintext then.
    if (is_genuine) {
      PARLEY_FUZZ_CHECK(plaintext.ok() && plaintext->equals(as_bytes("probe")));
    } else if (plaintext.ok()) {
      PARLEY_FUZZ_CHECK(message->signing_key() == world.group_signing().public_key);
    }
  } else {
    PARLEY_FUZZ_CHECK(!is_genuine);
  }
  return 0;
}
