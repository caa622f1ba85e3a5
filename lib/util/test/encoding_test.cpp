// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/encoding.h"

#include <gtest/gtest.h>

namespace parley {
namespace {

TEST(Hex, EncodesLowercase) {
  EXPECT_EQ(hex_encode(Bytes{0x00, 0x05, 0xAB, 0xFF}), "0005abff");
  EXPECT_EQ(hex_encode(Bytes{}), "");
}

TEST(Hex, DecodesBothCases) {
  EXPECT_EQ(hex_decode("0005abFF").value(), (Bytes{0x00, 0x05, 0xAB, 0xFF}));
  EXPECT_TRUE(hex_decode("").value().empty());
}

TEST(Hex, RejectsBadInput) {
  for (const char* bad : {"0", "abc", "zz", "0g", "00 11", "0x00", "00\n"}) {
    Result<Bytes> r = hex_decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidEncoding) << bad;
  }
}

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), encoded);
    EXPECT_EQ(base64_decode(encoded).value(), to_bytes(plain)) << encoded;
  }
}

TEST(Base64, UrlUnpaddedVariant) {
  Bytes data{0xFB, 0xFF, 0xBF};
  EXPECT_EQ(base64_encode(data), "+/+/");
  EXPECT_EQ(base64_encode(data, Base64Variant::kUrlUnpadded), "-_-_");
  EXPECT_EQ(base64_encode(as_bytes("f"), Base64Variant::kUrlUnpadded), "Zg");
  EXPECT_EQ(base64_decode("Zg", Base64Variant::kUrlUnpadded).value(), to_bytes("f"));
  EXPECT_EQ(base64_decode("-_-_", Base64Variant::kUrlUnpadded).value(), data);
}

TEST(Base64, RejectsBadInput) {
  for (const char* bad : {"Zg", "Zg=", "Z", "Zm9v!", "Zm 9v", "-_-_", "Zg==Zg=="}) {
    Result<Bytes> r = base64_decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidEncoding) << bad;
  }
  EXPECT_FALSE(base64_decode("Zg==", Base64Variant::kUrlUnpadded).ok());
  EXPECT_FALSE(base64_decode("+/+/", Base64Variant::kUrlUnpadded).ok());
}

TEST(Base64, RoundTripsAllByteValues) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    Bytes part(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(len));
    for (auto variant : {Base64Variant::kStandard, Base64Variant::kUrlUnpadded}) {
      EXPECT_EQ(base64_decode(base64_encode(part, variant), variant).value(), part);
    }
    EXPECT_EQ(hex_decode(hex_encode(part)).value(), part);
  }
}

}  // namespace
}  // namespace parley
