// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace parley {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Status::error(ErrorCode::kOutOfRange, "must be positive");
  return x;
}

Result<int> doubled(int x) {
  PARLEY_ASSIGN_OR_RETURN(int value, parse_positive(x));
  return value * 2;
}

Status check_both(int a, int b) {
  PARLEY_RETURN_IF_ERROR(parse_positive(a));
  PARLEY_RETURN_IF_ERROR(parse_positive(b).status().with_context("second"));
  return Status();
}

TEST(Status, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kOk);
  EXPECT_EQ(status.to_string(), "E0 ok");
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  Status status = Status::error(ErrorCode::kBadSignature, "signed prekey");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), ErrorCode::kBadSignature);
  EXPECT_EQ(status.message(), "signed prekey");
  EXPECT_EQ(status.to_string(), "E301 bad_signature: signed prekey");
}

TEST(Status, WithContextPrefixesAndKeepsCode) {
  Status status = Status::error(ErrorCode::kStorageIo, "disk").with_context("saving session");
  EXPECT_EQ(status.code(), ErrorCode::kStorageIo);
  EXPECT_EQ(status.message(), "saving session: disk");
  EXPECT_TRUE(Status().with_context("ignored").ok());
  EXPECT_EQ(Status::error(ErrorCode::kTimeout).with_context("connect").message(), "connect");
}

TEST(Result, HoldsValue) {
  Result<std::string> result = std::string("abc");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "abc");
  EXPECT_EQ(result->size(), 3u);
  EXPECT_TRUE(result.status().ok());
}

TEST(Result, ConvertsConstructibleValues) {
  Result<std::string> result = "literal";
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value(), "literal");
}

TEST(Result, HoldsError) {
  Result<int> result = parse_positive(-1);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(result.value_or(7), 7);
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(5);
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> owned = std::move(result).value();
  EXPECT_EQ(*owned, 5);
}

TEST(Result, AssignOrReturnPropagates) {
  EXPECT_EQ(doubled(21).value(), 42);
  Result<int> failed = doubled(0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(failed.status().message(), "must be positive");
}

TEST(Result, ReturnIfErrorStopsAtFirstFailure) {
  EXPECT_TRUE(check_both(1, 2).ok());
  EXPECT_EQ(check_both(-1, 2).message(), "must be positive");
  Status second = check_both(1, -2);
  EXPECT_EQ(second.code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(second.message(), "second: must be positive");
}

#ifdef NDEBUG
TEST(Result, OkStatusBecomesInternalErrorInRelease) {
  Result<int> result = Status();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kInternal);
}
#else
TEST(ResultDeathTest, OkStatusIsAProgrammerError) {
  EXPECT_DEATH({ Result<int> result = Status(); }, "ok Status");
}
TEST(ResultDeathTest, ValueOfErrorIsAProgrammerError) {
  EXPECT_DEATH({ (void)parse_positive(0).value(); }, "value\\(\\) on an error");
}
#endif

}  // namespace
}  // namespace parley
