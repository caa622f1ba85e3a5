// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/proto/pow.h"

#include <gtest/gtest.h>

namespace parley::proto {
namespace {

TEST(ProofOfWork, SolvedNonceHasTheBits) {
  Bytes challenge(32, 0x42);
  Bytes nonce = pow_solve(challenge, 12);
  EXPECT_GE(pow_leading_zero_bits(challenge, nonce), 12u);
  EXPECT_TRUE(pow_is_valid(challenge, nonce, 12));
}

TEST(ProofOfWork, WrongChallengeOrNonceFails) {
  Bytes challenge(32, 0x42);
  Bytes nonce = pow_solve(challenge, 16);
  Bytes other(32, 0x43);
  // A 16-bit proof holds for another challenge with probability 2^-16.
  EXPECT_FALSE(pow_is_valid(other, nonce, 16));
  Bytes zero_nonce(8, 0);
  if (pow_leading_zero_bits(challenge, zero_nonce) < 16) {
    EXPECT_FALSE(pow_is_valid(challenge, zero_nonce, 16));
  }
}

TEST(ProofOfWork, KnownAnswer) {
  // SHA-256("") = e3b0c442...: first byte 0xe3 has no leading zero bit.
  EXPECT_EQ(pow_leading_zero_bits({}, {}), 0u);
  // SHA-256("abc") = ba7816bf...: likewise. Zero bits are only accepted when asked for.
  EXPECT_TRUE(pow_is_valid(as_bytes("ab"), as_bytes("c"), 0));
  EXPECT_FALSE(pow_is_valid(as_bytes("ab"), as_bytes("c"), 1));
}

}  // namespace
}  // namespace parley::proto
