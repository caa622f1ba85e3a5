// SPDX-License-Identifier: AGPL-3.0-or-later
// SignalMessage: parse, re-serialize, rebuild canonically, and decrypt against a fixed session.
#include <cstddef>
#include <cstdint>

#include "fixed_world.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/session_cipher.h"

using namespace parley;

namespace {

bool same_fields(const crypto::SignalMessage& a, const crypto::SignalMessage& b) {
  return a.version() == b.version() && a.ratchet_key() == b.ratchet_key() &&
         a.counter() == b.counter() && a.previous_counter() == b.previous_counter() &&
         a.ciphertext() == b.ciphertext();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();

  auto message = crypto::SignalMessage::parse(in);
  if (message.ok()) {
    auto again = crypto::SignalMessage::parse(message->serialize());
    PARLEY_FUZZ_CHECK(again.ok() && same_fields(*message, *again));

    const Bytes mac_key(32, 0x42);
    auto rebuilt = crypto::SignalMessage::create(message->ratchet_key(), message->counter(),
                                                 message->previous_counter(), message->ciphertext(),
                                                 mac_key, world.alice_identity().public_key,
                                                 world.bob_identity().public_key);
    PARLEY_FUZZ_CHECK(rebuilt.ok());
    auto reparsed = crypto::SignalMessage::parse(rebuilt->serialize());
    PARLEY_FUZZ_CHECK(reparsed.ok() && same_fields(*message, *reparsed));
    PARLEY_FUZZ_CHECK(reparsed
                          ->verify_mac(mac_key, world.alice_identity().public_key,
                                       world.bob_identity().public_key)
                          .ok());
  }

  // Decrypt with bob's fixed session; a failure must leave the session as it was.
  auto bob = world.bob();
  const SecretBytes before = bob->sessions.load_session(world.alice_address).value()->serialize();
  crypto::SessionCipher cipher(bob->stores(), world.alice_address);
  auto plaintext = cipher.decrypt(crypto::MessageType::kSignal, in);
  if (!plaintext.ok()) {
    const SecretBytes after = bob->sessions.load_session(world.alice_address).value()->serialize();
    PARLEY_FUZZ_CHECK(before == after);
  }
  return 0;
}
