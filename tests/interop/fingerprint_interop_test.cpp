// SPDX-License-Identifier: AGPL-3.0-or-later
// Safety numbers: Parley and libsignal-protocol-c show the same 60 digits and the same scannable
// code for the same two identities, and each side's code matches the other's scan.
#include <gtest/gtest.h>

#include "libsignal_peer.h"
#include "parley/crypto/fingerprint.h"
#include "parley/crypto/keys.h"

namespace parley::interop {
namespace {

TEST(FingerprintInteropTest, SafetyNumbersMatch) {
  for (int i = 0; i < 5; ++i) {
    crypto::KeyPair alice = crypto::KeyPair::generate();
    crypto::KeyPair bob = crypto::KeyPair::generate();
    const std::string alice_id = "alice-" + std::to_string(i);
    const std::string bob_id = "@bob_" + std::to_string(i);
    auto ours = crypto::Fingerprint::create(alice_id, alice.public_key, bob_id, bob.public_key);
    ASSERT_TRUE(ours.ok()) << ours.status().to_string();
    auto theirs = oracle_fingerprint(alice_id, alice.public_key.serialize(), bob_id,
                                     bob.public_key.serialize());
    ASSERT_TRUE(theirs.ok()) << theirs.error;
    EXPECT_EQ(ours->display_text(), theirs.value.displayable);
    EXPECT_EQ(ours->scannable().serialize(), theirs.value.scannable);

    // Bob's phone scanning Alice's code: libsignal's code from Bob's side must match Parley's.
    auto bob_side = oracle_fingerprint(bob_id, bob.public_key.serialize(), alice_id,
                                       alice.public_key.serialize());
    ASSERT_TRUE(bob_side.ok());
    auto match = ours->scannable().matches(bob_side.value.scannable);
    ASSERT_TRUE(match.ok()) << match.status().to_string();
    EXPECT_TRUE(*match);
    EXPECT_EQ(bob_side.value.displayable, ours->display_text());
  }
}

TEST(FingerprintInteropTest, SafetyNumbersDifferForDifferentKeys) {
  crypto::KeyPair alice = crypto::KeyPair::generate();
  crypto::KeyPair bob = crypto::KeyPair::generate();
  crypto::KeyPair mallory = crypto::KeyPair::generate();
  auto real =
      oracle_fingerprint("a", alice.public_key.serialize(), "b", bob.public_key.serialize());
  auto fake = crypto::Fingerprint::create("a", alice.public_key, "b", mallory.public_key);
  ASSERT_TRUE(real.ok());
  ASSERT_TRUE(fake.ok());
  EXPECT_NE(fake->display_text(), real.value.displayable);
  auto match = fake->scannable().matches(
      oracle_fingerprint("b", bob.public_key.serialize(), "a", alice.public_key.serialize())
          .value.scannable);
  ASSERT_TRUE(match.ok());
  EXPECT_FALSE(*match);
}

}  // namespace
}  // namespace parley::interop
