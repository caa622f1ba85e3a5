// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/keys.h"

#include <gtest/gtest.h>

#include "parley/util/encoding.h"
#include "test_util.h"

namespace parley::crypto {
namespace {

using testing::unhex;

std::string x25519(std::string_view scalar, std::string_view u) {
  Result<PrivateKey> k = PrivateKey::parse(unhex(scalar));
  Result<PublicKey> pub = PublicKey::from_raw(unhex(u));
  if (!k.ok() || !pub.ok()) return "bad input";
  Result<SecretBytes> shared = k->agree(*pub);
  return shared.ok() ? hex_encode(shared->view()) : shared.status().to_string();
}

TEST(X25519, Rfc7748Section5_2) {
  EXPECT_EQ(x25519("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                   "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  EXPECT_EQ(x25519("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                   "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

TEST(X25519, Rfc7748Section6_1) {
  Result<PrivateKey> alice =
      PrivateKey::parse(unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  Result<PrivateKey> bob =
      PrivateKey::parse(unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_EQ(hex_encode(alice->public_key().raw()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(hex_encode(bob->public_key().raw()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  Result<SecretBytes> k1 = alice->agree(bob->public_key());
  Result<SecretBytes> k2 = bob->agree(alice->public_key());
  ASSERT_TRUE(k1.ok() && k2.ok());
  EXPECT_EQ(hex_encode(k1->view()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*k1, *k2);
}

TEST(Keys, PublicKeySerialization) {
  KeyPair pair = KeyPair::generate();
  Bytes wire = pair.public_key.serialize();
  ASSERT_EQ(wire.size(), 33u);
  EXPECT_EQ(wire[0], 0x05);
  Result<PublicKey> back = PublicKey::parse(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, pair.public_key);

  Bytes wrong_type = wire;
  wrong_type[0] = 0x04;
  EXPECT_EQ(PublicKey::parse(wrong_type).status().code(), ErrorCode::kInvalidKey);
  EXPECT_EQ(PublicKey::parse(ByteView(wire).first(32)).status().code(), ErrorCode::kInvalidKey);
  Bytes too_long = wire;
  too_long.push_back(0);
  EXPECT_EQ(PublicKey::parse(too_long).status().code(), ErrorCode::kInvalidKey);
  EXPECT_EQ(PublicKey::parse({}).status().code(), ErrorCode::kInvalidKey);
  EXPECT_EQ(PublicKey::from_raw(Bytes(31, 1)).status().code(), ErrorCode::kInvalidKey);
}

TEST(Keys, PrivateKeysAreClampedAndRoundTrip) {
  Result<PrivateKey> k = PrivateKey::parse(Bytes(32, 0xff));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->serialize()[0], 0xf8);
  EXPECT_EQ(k->serialize()[31], 0x7f);
  EXPECT_EQ(PrivateKey::parse(Bytes(31, 1)).status().code(), ErrorCode::kInvalidKey);

  KeyPair pair = KeyPair::generate();
  Result<PrivateKey> again = PrivateKey::parse(pair.private_key.serialize().view());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), pair.public_key);
}

TEST(Keys, AgreementRejectsLowOrderPoints) {
  KeyPair pair = KeyPair::generate();
  // u = 0 and u = 1 are low-order points: the shared secret would be all zero.
  EXPECT_EQ(pair.private_key.agree(PublicKey()).status().code(), ErrorCode::kInvalidKey);
  Bytes one(32, 0);
  one[0] = 1;
  EXPECT_EQ(pair.private_key.agree(*PublicKey::from_raw(one)).status().code(),
            ErrorCode::kInvalidKey);
}

}  // namespace
}  // namespace parley::crypto
