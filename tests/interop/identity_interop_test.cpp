// SPDX-License-Identifier: AGPL-3.0-or-later
// Keys and XEdDSA signatures agree between Parley and libsignal-protocol-c.
#include <gtest/gtest.h>

#include <random>

#include "libsignal_peer.h"
#include "parley/crypto/keys.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"

namespace parley::interop {
namespace {

TEST(IdentityInteropTest, SamePrivateKeyGivesSamePublicKey) {
  for (int i = 0; i < 20; ++i) {
    auto oracle = LibsignalPeer::create("x");
    auto parley_key = crypto::PrivateKey::parse(oracle->identity_private());
    ASSERT_TRUE(parley_key.ok());
    EXPECT_EQ(parley_key->public_key().serialize(), oracle->identity_public());

    crypto::KeyPair ours = crypto::KeyPair::generate();
    auto twin =
        LibsignalPeer::create_with_identity("y", 1,
                                            Bytes(ours.private_key.serialize().view().begin(),
                                                  ours.private_key.serialize().view().end()),
                                            1234);
    ASSERT_NE(twin, nullptr);
    EXPECT_EQ(twin->identity_public(), ours.public_key.serialize());
  }
}

TEST(IdentityInteropTest, LibsignalSignaturesVerifyInParley) {
  std::mt19937 rng(99);
  for (int i = 0; i < 50; ++i) {
    auto oracle = LibsignalPeer::create("signer");
    Bytes message(static_cast<std::size_t>(rng() % 200));
    for (auto& b : message) b = static_cast<std::uint8_t>(rng());
    auto sig = oracle->sign(message);
    ASSERT_TRUE(sig.ok());
    auto key = crypto::PublicKey::parse(oracle->identity_public());
    ASSERT_TRUE(key.ok());
    EXPECT_TRUE(crypto::xeddsa_verify(*key, message, sig.value).ok()) << "signature " << i;
    Bytes bad = sig.value;
    bad[static_cast<std::size_t>(rng() % 64)] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    EXPECT_EQ(crypto::xeddsa_verify(*key, message, bad).code(), ErrorCode::kBadSignature);
    if (!message.empty()) {
      Bytes other = message;
      other[0] ^= 0x01;
      EXPECT_FALSE(crypto::xeddsa_verify(*key, other, sig.value).ok());
    }
  }
}

TEST(IdentityInteropTest, ParleySignaturesVerifyInLibsignal) {
  std::mt19937 rng(77);
  for (int i = 0; i < 50; ++i) {
    crypto::KeyPair pair = crypto::KeyPair::generate();
    Bytes message(static_cast<std::size_t>(rng() % 200));
    for (auto& b : message) b = static_cast<std::uint8_t>(rng());
    Bytes sig = crypto::xeddsa_sign(pair.private_key, message);
    ASSERT_EQ(sig.size(), 64u);
    EXPECT_EQ(oracle_verify_signature(pair.public_key.serialize(), message, sig), 1)
        << "signature " << i;
    Bytes bad = sig;
    bad[static_cast<std::size_t>(rng() % 64)] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    EXPECT_NE(oracle_verify_signature(pair.public_key.serialize(), message, bad), 1);
  }
}

}  // namespace
}  // namespace parley::interop
