// SPDX-License-Identifier: AGPL-3.0-or-later
// SenderKeyMessage: parse, re-serialize, verify, and decrypt on bob's fixed copy of alice's chain.
#include <cstddef>
#include <cstdint>

#include "fixed_world.h"
#include "parley/crypto/group_cipher.h"
#include "parley/crypto/messages.h"

using namespace parley;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();

  auto message = crypto::SenderKeyMessage::parse(in);
  if (message.ok()) {
    auto again = crypto::SenderKeyMessage::parse(message->serialize());
    PARLEY_FUZZ_CHECK(again.ok());
    PARLEY_FUZZ_CHECK(again->key_id() == message->key_id() &&
                      again->iteration() == message->iteration() &&
                      again->ciphertext() == message->ciphertext());
    // Whether the signature holds must not depend on which copy is asked.
    const bool valid = message->verify_signature(world.group_signing().public_key).ok();
    PARLEY_FUZZ_CHECK(valid == again->verify_signature(world.group_signing().public_key).ok());

    // A canonical rebuild signed with the chain's key verifies and keeps every field.
    auto rebuilt =
        crypto::SenderKeyMessage::create(message->key_id(), message->iteration(),
                                         message->ciphertext(), world.group_signing().private_key);
    PARLEY_FUZZ_CHECK(rebuilt.ok());
    auto reparsed = crypto::SenderKeyMessage::parse(rebuilt->serialize());
    PARLEY_FUZZ_CHECK(reparsed.ok() && reparsed->iteration() == message->iteration() &&
                      reparsed->ciphertext() == message->ciphertext());
    PARLEY_FUZZ_CHECK(reparsed->verify_signature(world.group_signing().public_key).ok());
  }

  auto bob = world.bob();
  const SecretBytes before =
      bob->sender_keys.load_sender_key(world.group_sender).value()->serialize();
  crypto::GroupCipher cipher(bob->sender_keys, world.group_sender);
  auto plaintext = cipher.decrypt(in);
  if (!plaintext.ok()) {
    const SecretBytes after =
        bob->sender_keys.load_sender_key(world.group_sender).value()->serialize();
    PARLEY_FUZZ_CHECK(before == after);
  }
  return 0;
}
