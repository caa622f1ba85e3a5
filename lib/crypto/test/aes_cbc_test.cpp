// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/aes_cbc.h"

#include <gtest/gtest.h>

#include "parley/crypto/random.h"
#include "parley/util/encoding.h"
#include "test_util.h"

namespace parley::crypto {
namespace {

using testing::unhex;

// NIST SP 800-38A F.2.5 (CBC-AES256.Encrypt); our output adds one PKCS#7 padding block.
TEST(AesCbc, Sp80038aVector) {
  Bytes key = unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  Bytes iv = unhex("000102030405060708090a0b0c0d0e0f");
  Bytes plain = unhex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  Result<Bytes> cipher = aes256_cbc_encrypt(key, iv, plain);
  ASSERT_TRUE(cipher.ok());
  ASSERT_EQ(cipher->size(), 80u);
  EXPECT_EQ(hex_encode(ByteView(*cipher).first(64)),
            "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
            "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b");
  Result<SecretBytes> back = aes256_cbc_decrypt(key, iv, *cipher);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->equals(plain));
}

TEST(AesCbc, RoundTripsAllLengths) {
  SecretBytes key = random_secret(32);
  Bytes iv = random_bytes(16);
  for (std::size_t n = 0; n < 40; ++n) {
    Bytes plain = random_bytes(n);
    Result<Bytes> cipher = aes256_cbc_encrypt(key.view(), iv, plain);
    ASSERT_TRUE(cipher.ok());
    EXPECT_EQ(cipher->size(), (n / 16 + 1) * 16);
    Result<SecretBytes> back = aes256_cbc_decrypt(key.view(), iv, *cipher);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(back->equals(plain));
  }
}

TEST(AesCbc, BadInputIsAnErrorNotACrash) {
  SecretBytes key = random_secret(32);
  Bytes iv = random_bytes(16);
  EXPECT_EQ(aes256_cbc_decrypt(key.view(), iv, {}).status().code(), ErrorCode::kDecryptFailed);
  EXPECT_EQ(aes256_cbc_decrypt(key.view(), iv, Bytes(15, 0)).status().code(),
            ErrorCode::kDecryptFailed);
  // A wrong key almost always breaks the padding; try many to make sure none crashes and any
  // success is just a lucky padding byte.
  Result<Bytes> cipher = aes256_cbc_encrypt(key.view(), iv, as_bytes("attack at dawn"));
  ASSERT_TRUE(cipher.ok());
  int failures = 0;
  for (int i = 0; i < 50; ++i) {
    SecretBytes other = random_secret(32);
    if (!aes256_cbc_decrypt(other.view(), iv, *cipher).ok()) ++failures;
  }
  EXPECT_GT(failures, 40);
  EXPECT_EQ(aes256_cbc_decrypt(Bytes(31, 0), iv, *cipher).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(aes256_cbc_encrypt(key.view(), Bytes(8, 0), *cipher).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::crypto
