// SPDX-License-Identifier: AGPL-3.0-or-later
// Serialized keys and signatures: 0x05-prefixed public keys round-trip exactly; any 33 + 64 bytes
// reach XEdDSA verification; any 32 bytes reach X25519 agreement against the fixed keys.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fixed_world.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/xeddsa.h"

using namespace parley;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  const fuzzing::FixedWorld& world = fuzzing::fixed_world();

  auto key = crypto::PublicKey::parse(in);
  if (key.ok()) {
    const Bytes out = key->serialize();
    PARLEY_FUZZ_CHECK(out.size() == in.size() && std::equal(out.begin(), out.end(), in.begin()));
    // A peer key, even a low-order one, must be handled: an error or a 32-byte secret.
    auto shared = world.alice_identity().private_key.agree(*key);
    PARLEY_FUZZ_CHECK(!shared.ok() || shared->size() == 32);
  }

  if (size >= crypto::kSerializedPublicKeySize + crypto::kSignatureSize) {
    auto signer = crypto::PublicKey::parse(in.first(crypto::kSerializedPublicKeySize));
    if (signer.ok()) {
      const ByteView signature =
          in.subspan(crypto::kSerializedPublicKeySize, crypto::kSignatureSize);
      const ByteView message =
          in.subspan(crypto::kSerializedPublicKeySize + crypto::kSignatureSize);
      (void)crypto::xeddsa_verify(*signer, message, signature);
    }
  }

  if (size >= crypto::kCurve25519KeySize) {
    auto scalar = crypto::PrivateKey::parse(in.first(crypto::kCurve25519KeySize));
    PARLEY_FUZZ_CHECK(scalar.ok());
    // Parsing clamps, so parsing the stored scalar again is the identity.
    auto reparsed = crypto::PrivateKey::parse(scalar->serialize().view());
    PARLEY_FUZZ_CHECK(reparsed.ok() && reparsed->serialize() == scalar->serialize());
    auto a = scalar->agree(world.bob_identity().public_key);
    auto b = world.bob_identity().private_key.agree(scalar->public_key());
    PARLEY_FUZZ_CHECK(a.ok() == b.ok());
    if (a.ok()) PARLEY_FUZZ_CHECK(*a == *b);
  }
  return 0;
}
