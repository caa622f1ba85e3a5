// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/fingerprint.h"

#include <gtest/gtest.h>

#include "parley/util/encoding.h"
#include "test_util.h"

namespace parley::crypto {
namespace {

using testing::unhex;

// Known answers from libsignal-protocol-c's fingerprint tests (5200 iterations).
const char* kAliceIdentity = "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868";
const char* kBobIdentity = "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b";
const char* kDisplay = "300354477692869396892869876765458257569162576843440918079131";
const char* kAliceScannable =
    "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"
    "1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d";

TEST(Fingerprint, MatchesLibsignalKnownAnswer) {
  PublicKey alice = *PublicKey::parse(unhex(kAliceIdentity));
  PublicKey bob = *PublicKey::parse(unhex(kBobIdentity));
  Result<Fingerprint> a = Fingerprint::create("+14152222222", alice, "+14153333333", bob);
  Result<Fingerprint> b = Fingerprint::create("+14153333333", bob, "+14152222222", alice);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->display_text(), kDisplay);
  EXPECT_EQ(b->display_text(), kDisplay);
  EXPECT_EQ(a->display_text().size(), 60u);
  EXPECT_EQ(a->local_digits(), b->remote_digits());
  EXPECT_EQ(hex_encode(a->scannable().serialize()), kAliceScannable);

  // Each phone scans the other's code.
  Result<bool> a_scans_b = a->scannable().matches(b->scannable().serialize());
  Result<bool> b_scans_a = b->scannable().matches(a->scannable().serialize());
  ASSERT_TRUE(a_scans_b.ok() && b_scans_a.ok());
  EXPECT_TRUE(*a_scans_b);
  EXPECT_TRUE(*b_scans_a);
  // A code is not a match for itself (local and remote are swapped).
  EXPECT_FALSE(*a->scannable().matches(a->scannable().serialize()));
}

TEST(Fingerprint, DifferentKeysDifferentNumbers) {
  PublicKey alice = *PublicKey::parse(unhex(kAliceIdentity));
  PublicKey bob = *PublicKey::parse(unhex(kBobIdentity));
  PublicKey mallory = KeyPair::generate().public_key;
  Result<Fingerprint> real = Fingerprint::create("+1", alice, "+2", bob, 100);
  Result<Fingerprint> fake = Fingerprint::create("+1", alice, "+2", mallory, 100);
  ASSERT_TRUE(real.ok() && fake.ok());
  EXPECT_NE(real->display_text(), fake->display_text());
  Result<Fingerprint> seen_by_mallory = Fingerprint::create("+2", mallory, "+1", alice, 100);
  ASSERT_TRUE(seen_by_mallory.ok());
  EXPECT_FALSE(*real->scannable().matches(seen_by_mallory->scannable().serialize()));
  EXPECT_EQ(Fingerprint::create("+1", alice, "+2", bob, 0).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(Fingerprint, ScannableParserRejectsBadInput) {
  EXPECT_EQ(ScannableFingerprint::parse(unhex("ffff")).status().code(), ErrorCode::kMalformedInput);
  // Version 0 (the identifier form) is not what we produce or accept.
  EXPECT_EQ(ScannableFingerprint::parse(unhex("0800")).status().code(),
            ErrorCode::kUnsupportedVersion);
  // Version 1 without its parts.
  EXPECT_EQ(ScannableFingerprint::parse(unhex("0801")).status().code(), ErrorCode::kMalformedInput);
  Bytes valid = unhex(kAliceScannable);
  ASSERT_TRUE(ScannableFingerprint::parse(valid).ok());
  for (std::size_t n = 0; n < valid.size(); ++n) {
    EXPECT_FALSE(ScannableFingerprint::parse(ByteView(valid).first(n)).ok()) << n;
  }
  EXPECT_FALSE(ScannableFingerprint(Bytes{1}, Bytes{2}).matches(unhex("ff")).ok());
}

}  // namespace
}  // namespace parley::crypto
