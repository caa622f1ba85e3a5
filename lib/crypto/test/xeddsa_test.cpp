// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/xeddsa.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>

#include "parley/crypto/hash.h"
#include "parley/crypto/random.h"
#include "test_util.h"

namespace parley::crypto {
namespace {

using testing::unhex;

struct Ed25519Vector {
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 §7.1 TEST 1-3.
const Ed25519Vector kRfc8032[] = {
    {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, Rfc8032Vectors) {
  for (const auto& v : kRfc8032) {
    Bytes pk = unhex(v.public_key);
    Bytes msg = unhex(v.message);
    Bytes sig = unhex(v.signature);
    EXPECT_TRUE(ed25519_verify(pk, msg, sig).ok()) << v.public_key;
    Bytes bad_msg = msg;
    bad_msg.push_back(0);
    EXPECT_EQ(ed25519_verify(pk, bad_msg, sig).code(), ErrorCode::kBadSignature);
    Bytes bad_sig = sig;
    bad_sig[10] ^= 1;
    EXPECT_EQ(ed25519_verify(pk, msg, bad_sig).code(), ErrorCode::kBadSignature);
  }
}

TEST(Xeddsa, SignVerifyRoundTrip) {
  for (int i = 0; i < 20; ++i) {
    KeyPair pair = KeyPair::generate();
    Bytes msg = random_bytes(static_cast<std::size_t>(i) * 13);
    Bytes sig = xeddsa_sign(pair.private_key, msg);
    ASSERT_EQ(sig.size(), kSignatureSize);
    // XEdDSA forces the Edwards sign bit to 0, so the top bit of s stays clear.
    EXPECT_EQ(sig[63] & 0x80, 0);
    EXPECT_TRUE(xeddsa_verify(pair.public_key, msg, sig).ok());
  }
}

TEST(Xeddsa, DeterministicGivenRandom) {
  KeyPair pair = KeyPair::generate();
  Bytes z(64, 7);
  Result<Bytes> a = xeddsa_sign(pair.private_key, as_bytes("m"), z);
  Result<Bytes> b = xeddsa_sign(pair.private_key, as_bytes("m"), z);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  z[0] = 8;
  Result<Bytes> c = xeddsa_sign(pair.private_key, as_bytes("m"), z);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
  EXPECT_TRUE(xeddsa_verify(pair.public_key, as_bytes("m"), *c).ok());
  EXPECT_EQ(xeddsa_sign(pair.private_key, as_bytes("m"), Bytes(63, 0)).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(Xeddsa, RejectsTampering) {
  KeyPair pair = KeyPair::generate();
  Bytes msg = to_bytes("the signed prekey");
  Bytes sig = xeddsa_sign(pair.private_key, msg);
  ASSERT_TRUE(xeddsa_verify(pair.public_key, msg, sig).ok());

  Bytes other_msg = msg;
  other_msg[0] ^= 1;
  EXPECT_EQ(xeddsa_verify(pair.public_key, other_msg, sig).code(), ErrorCode::kBadSignature);
  for (std::size_t i : {0u, 31u, 32u, 62u, 63u}) {
    Bytes bad = sig;
    bad[i] ^= (i == 63 ? 0x80 : 0x01);
    EXPECT_EQ(xeddsa_verify(pair.public_key, msg, bad).code(), ErrorCode::kBadSignature) << i;
  }
  EXPECT_EQ(xeddsa_verify(KeyPair::generate().public_key, msg, sig).code(),
            ErrorCode::kBadSignature);
  EXPECT_EQ(xeddsa_verify(pair.public_key, msg, ByteView(sig).first(63)).code(),
            ErrorCode::kBadSignature);
  EXPECT_EQ(xeddsa_verify(pair.public_key, msg, {}).code(), ErrorCode::kBadSignature);
}

TEST(Xeddsa, RejectsNonCanonicalAndExceptionalKeys) {
  KeyPair pair = KeyPair::generate();
  Bytes sig = xeddsa_sign(pair.private_key, as_bytes("x"));
  // u = p - 1 has no Edwards form; u >= p is not canonical.
  Bytes p_minus_1 = unhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  Bytes p = unhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  Bytes all_ff(32, 0xff);
  for (const Bytes& u : {p_minus_1, p, all_ff}) {
    EXPECT_EQ(xeddsa_verify(*PublicKey::from_raw(u), as_bytes("x"), sig).code(),
              ErrorCode::kBadSignature);
  }
}

// libsignal's older signer (libsignal-protocol-c curve25519_sign): signs with the clamped scalar
// as is and stores the Edwards public key's sign bit in the top bit of s. Rebuilt here from
// libsodium primitives to check that our verifier accepts that convention.
Bytes legacy_sign(const PrivateKey& key, ByteView msg) {
  const SecretBytes& k = key.serialize();
  std::array<std::uint8_t, 32> A{};
  EXPECT_EQ(crypto_scalarmult_ed25519_base_noclamp(A.data(), k.data()), 0);
  const std::uint8_t sign_bit = A[31] & 0x80;
  Bytes nonce_in(32, 0xff);
  nonce_in[0] = 0xfe;
  append(nonce_in, k.view());
  append(nonce_in, msg);
  append(nonce_in, random_bytes(64));
  auto wide = sha512(nonce_in);
  std::array<std::uint8_t, 32> r{}, R{}, h{}, ka{}, s{};
  crypto_core_ed25519_scalar_reduce(r.data(), wide.data());
  EXPECT_EQ(crypto_scalarmult_ed25519_base_noclamp(R.data(), r.data()), 0);
  Bytes hram_in;
  append(hram_in, R);
  append(hram_in, A);
  append(hram_in, msg);
  auto hram = sha512(hram_in);
  crypto_core_ed25519_scalar_reduce(h.data(), hram.data());
  std::array<std::uint8_t, 64> k_wide{};
  std::copy(k.view().begin(), k.view().end(), k_wide.begin());
  crypto_core_ed25519_scalar_reduce(ka.data(), k_wide.data());
  std::array<std::uint8_t, 32> hk{};
  crypto_core_ed25519_scalar_mul(hk.data(), h.data(), ka.data());
  crypto_core_ed25519_scalar_add(s.data(), r.data(), hk.data());
  s[31] |= sign_bit;
  Bytes sig;
  append(sig, R);
  append(sig, s);
  return sig;
}

TEST(Xeddsa, AcceptsLegacySignBitConvention) {
  int negative_keys = 0;
  for (int i = 0; i < 40; ++i) {
    KeyPair pair = KeyPair::generate();
    Bytes msg = random_bytes(40);
    Bytes sig = legacy_sign(pair.private_key, msg);
    if ((sig[63] & 0x80) != 0) ++negative_keys;
    EXPECT_TRUE(xeddsa_verify(pair.public_key, msg, sig).ok()) << i;
    Bytes flipped = sig;
    flipped[63] ^= 0x80;
    EXPECT_EQ(xeddsa_verify(pair.public_key, msg, flipped).code(), ErrorCode::kBadSignature);
  }
  // Both kinds of key occur (about half each); make sure the interesting one was exercised.
  EXPECT_GT(negative_keys, 0);
}

}  // namespace
}  // namespace parley::crypto
