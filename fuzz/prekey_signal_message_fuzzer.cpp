// SPDX-License-Identifier: AGPL-3.0-or-later
// PreKeySignalMessage: parse, re-serialize, rebuild, and decrypt against bob's fixed store, which
// either knows the base key (existing session) or runs X3DH with its fixed prekeys.
#include <cstddef>
#include <cstdint>

#include "fixed_world.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/session_cipher.h"

using namespace parley;

namespace {

bool same_fields(const crypto::PreKeySignalMessage& a, const crypto::PreKeySignalMessage& b) {
  return a.version() == b.version() && a.registration_id() == b.registration_id() &&
         a.pre_key_id() == b.pre_key_id() && a.signed_pre_key_id() == b.signed_pre_key_id() &&
         a.base_key() == b.base_key() && a.identity_key() == b.identity_key() &&
         a.message().serialize() == b.message().serialize();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();

  auto message = crypto::PreKeySignalMessage::parse(in);
  if (message.ok()) {
    auto again = crypto::PreKeySignalMessage::parse(message->serialize());
    PARLEY_FUZZ_CHECK(again.ok() && same_fields(*message, *again));

    auto rebuilt = crypto::PreKeySignalMessage::create(
        message->registration_id(), message->pre_key_id(), message->signed_pre_key_id(),
        message->base_key(), message->identity_key(), message->message());
    PARLEY_FUZZ_CHECK(rebuilt.ok());
    auto reparsed = crypto::PreKeySignalMessage::parse(rebuilt->serialize());
    PARLEY_FUZZ_CHECK(reparsed.ok() && same_fields(*message, *reparsed));
  }

  auto bob = world.bob();
  const SecretBytes before = bob->sessions.load_session(world.alice_address).value()->serialize();
  crypto::SessionCipher cipher(bob->stores(), world.alice_address);
  auto plaintext = cipher.decrypt(crypto::MessageType::kPreKey, in);
  if (!plaintext.ok()) {
    const SecretBytes after = bob->sessions.load_session(world.alice_address).value()->serialize();
    PARLEY_FUZZ_CHECK(before == after);
    PARLEY_FUZZ_CHECK(bob->pre_keys.contains_pre_key(fuzzing::kOneTimePreKeyId).value_or(false));
  }
  return 0;
}
