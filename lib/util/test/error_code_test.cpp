// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/error_code.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace parley {
namespace {

// Numbers are a wire and UI contract: this table pins them. Changing a row here means breaking
// every deployed client, so a failure of this test is a prompt to add a new code instead.
TEST(ErrorCode, NumbersAreStable) {
  EXPECT_EQ(static_cast<int>(ErrorCode::kOk), 0);
  EXPECT_EQ(static_cast<int>(ErrorCode::kInvalidArgument), 100);
  EXPECT_EQ(static_cast<int>(ErrorCode::kNotFound), 102);
  EXPECT_EQ(static_cast<int>(ErrorCode::kResourceExhausted), 104);
  EXPECT_EQ(static_cast<int>(ErrorCode::kUnauthenticated), 107);
  EXPECT_EQ(static_cast<int>(ErrorCode::kInternal), 199);
  EXPECT_EQ(static_cast<int>(ErrorCode::kMalformedInput), 200);
  EXPECT_EQ(static_cast<int>(ErrorCode::kTooLarge), 201);
  EXPECT_EQ(static_cast<int>(ErrorCode::kInvalidEncoding), 203);
  EXPECT_EQ(static_cast<int>(ErrorCode::kInvalidKey), 300);
  EXPECT_EQ(static_cast<int>(ErrorCode::kBadSignature), 301);
  EXPECT_EQ(static_cast<int>(ErrorCode::kBadMac), 302);
  EXPECT_EQ(static_cast<int>(ErrorCode::kDuplicateMessage), 304);
  EXPECT_EQ(static_cast<int>(ErrorCode::kUntrustedIdentity), 306);
  EXPECT_EQ(static_cast<int>(ErrorCode::kStorageIo), 400);
  EXPECT_EQ(static_cast<int>(ErrorCode::kQueueFull), 403);
  EXPECT_EQ(static_cast<int>(ErrorCode::kProtocolViolation), 500);
  EXPECT_EQ(static_cast<int>(ErrorCode::kRateLimited), 502);
}

TEST(ErrorCode, NamesAndNumbersAreUniqueAndRoundTrip) {
  std::set<std::string> names;
  int known = 0;
  for (std::uint32_t n = 0; n < 1000; ++n) {
    std::optional<ErrorCode> code = error_code_from_number(n);
    if (!code) continue;
    ++known;
    EXPECT_EQ(static_cast<std::uint32_t>(*code), n);
    std::string name(error_code_name(*code));
    EXPECT_NE(name, "unknown") << n;
    EXPECT_FALSE(error_code_description(*code).empty()) << n;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
  EXPECT_GE(known, 30);
}

TEST(ErrorCode, UnknownNumbersAreRejected) {
  EXPECT_FALSE(error_code_from_number(1).has_value());
  EXPECT_FALSE(error_code_from_number(99).has_value());
  EXPECT_FALSE(error_code_from_number(65536 + 100).has_value());
  EXPECT_EQ(error_code_name(static_cast<ErrorCode>(9999)), "unknown");
}

}  // namespace
}  // namespace parley
