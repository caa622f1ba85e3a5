// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/proto/username.h"

#include <gtest/gtest.h>

namespace parley::proto {
namespace {

TEST(Username, FoldsAsciiCase) {
  auto name = normalize_username("Alice.Smith_99");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "alice.smith_99");
}

TEST(Username, LengthBounds) {
  EXPECT_TRUE(normalize_username("abc").ok());
  EXPECT_TRUE(normalize_username(std::string(32, 'a')).ok());
  EXPECT_EQ(normalize_username("ab").status().code(), ErrorCode::kInvalidUsername);
  EXPECT_EQ(normalize_username(std::string(33, 'a')).status().code(), ErrorCode::kInvalidUsername);
  EXPECT_EQ(normalize_username("").status().code(), ErrorCode::kInvalidUsername);
}

TEST(Username, RefusesOtherCharactersAndNonAscii) {
  for (const char* bad : {"al ice", "al-ice", "al@ice", "alice\n", "al\0ce"}) {
    EXPECT_EQ(normalize_username(std::string_view(bad, 6)).status().code(),
              ErrorCode::kInvalidUsername)
        << bad;
  }
  auto accented = normalize_username(
      "al\xc3\xa9"
      "ce");  // e-acute in UTF-8
  EXPECT_EQ(accented.status().code(), ErrorCode::kInvalidUsername);
  EXPECT_NE(accented.status().message().find("ASCII"), std::string::npos);
}

}  // namespace
}  // namespace parley::proto
