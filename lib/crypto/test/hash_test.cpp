// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/hash.h"

#include <gtest/gtest.h>

#include <numeric>

#include "parley/crypto/random.h"
#include "parley/util/encoding.h"

namespace parley::crypto {
namespace {

Bytes range(std::uint8_t from, std::uint8_t to_exclusive) {
  Bytes out;
  for (unsigned v = from; v < to_exclusive; ++v) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

Bytes range_to_256(std::uint8_t from) {
  Bytes out;
  for (unsigned v = from; v < 256; ++v) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

TEST(Sha, KnownAnswers) {
  // FIPS 180-2 "abc" examples.
  EXPECT_EQ(hex_encode(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha512(as_bytes("abc"))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Sha, EmptyInput) {
  EXPECT_EQ(hex_encode(sha256({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // HMAC with an empty key and empty message (a well-known value).
  EXPECT_EQ(hex_encode(hmac_sha256({}, {}).view()),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Hmac, Rfc4231Case2) {
  SecretBytes mac = hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"));
  EXPECT_EQ(hex_encode(mac.view()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hkdf, Rfc5869Case1) {
  Result<SecretBytes> okm = hkdf_sha256(Bytes(22, 0x0b), range(0x00, 0x0d), range(0xf0, 0xfa), 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(hex_encode(okm->view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, Rfc5869Case2) {
  Result<SecretBytes> okm =
      hkdf_sha256(range(0x00, 0x50), range(0x60, 0xb0), range_to_256(0xb0), 82);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(hex_encode(okm->view()),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(Hkdf, Rfc5869Case3EmptySaltAndInfo) {
  Result<SecretBytes> okm = hkdf_sha256(Bytes(22, 0x0b), {}, {}, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(hex_encode(okm->view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // An empty salt means 32 zero bytes (what libsignal passes explicitly).
  Result<SecretBytes> zero_salt = hkdf_sha256(Bytes(22, 0x0b), Bytes(32, 0), {}, 42);
  ASSERT_TRUE(zero_salt.ok());
  EXPECT_EQ(*okm, *zero_salt);
}

TEST(Hkdf, RejectsTooLongOutput) {
  EXPECT_EQ(hkdf_sha256(Bytes(32, 1), {}, {}, std::size_t{255} * 32 + 1).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(hkdf_sha256(Bytes(32, 1), {}, {}, std::size_t{255} * 32).ok());
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  Bytes a{1, 2, 3};
  Bytes b{1, 2, 3};
  Bytes c{1, 2, 4};
  EXPECT_TRUE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, Bytes{1, 2}));
  EXPECT_TRUE(constant_time_equal({}, {}));
}

TEST(Random, ProducesDistinctValues) {
  Bytes a = random_bytes(32);
  Bytes b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(random_secret(16).size(), 16u);
}

}  // namespace
}  // namespace parley::crypto
