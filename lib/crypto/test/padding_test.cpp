// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/crypto/padding.h"

#include <gtest/gtest.h>

#include "parley/crypto/random.h"

namespace parley::crypto {
namespace {

TEST(Padding, RoundTripsAndHidesLength) {
  for (std::size_t n : {0u, 1u, 158u, 159u, 160u, 161u, 500u}) {
    Bytes plain = random_bytes(n);
    if (!plain.empty()) plain.back() = 0;  // trailing zeros in the message must survive
    Result<SecretBytes> padded = pad_message(plain);
    ASSERT_TRUE(padded.ok());
    EXPECT_EQ(padded->size() % kPaddingBlock, 0u);
    EXPECT_GT(padded->size(), n);
    Result<SecretBytes> back = unpad_message(padded->view());
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(back->equals(plain)) << n;
  }
  // Every length up to 159 pads to the same size.
  EXPECT_EQ(pad_message(Bytes(3, 1))->size(), pad_message(Bytes(159, 1))->size());
}

TEST(Padding, RejectsMissingMarker) {
  EXPECT_EQ(unpad_message({}).status().code(), ErrorCode::kMalformedInput);
  EXPECT_EQ(unpad_message(Bytes(160, 0)).status().code(), ErrorCode::kMalformedInput);
  EXPECT_EQ(unpad_message(Bytes{1, 2, 3}).status().code(), ErrorCode::kMalformedInput);
  EXPECT_EQ(pad_message(Bytes{1}, 0).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::crypto
