// SPDX-License-Identifier: AGPL-3.0-or-later
#include "errors.h"

#include <gtest/gtest.h>

namespace parley::cli {
namespace {

TEST(ErrorsTest, LineNamesNumberAndCode) {
  Status status = Status::error(ErrorCode::kInvalidUsername, "usernames are 3 to 32 characters");
  EXPECT_EQ(error_line(status),
            "parley: usernames are 3 to 32 characters (error 204 invalid_username)");
}

TEST(ErrorsTest, EmptyMessageUsesDescription) {
  EXPECT_EQ(error_line(Status::error(ErrorCode::kTimeout)),
            "parley: the operation timed out (error 109 timeout)");
}

TEST(ErrorsTest, AlwaysOneLine) {
  std::string line = error_line(Status::error(ErrorCode::kInternal, "two\nlines\r\x1b[31m"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line, "parley: two lines  [31m (error 199 internal)");
}

TEST(ErrorsTest, ExitCodes) {
  EXPECT_EQ(exit_code_for(Status()), kExitOk);
  EXPECT_EQ(exit_code_for(Status::error(ErrorCode::kUnavailable)), 69);
  EXPECT_EQ(exit_code_for(Status::error(ErrorCode::kConnectionClosed)), 69);
  EXPECT_EQ(exit_code_for(Status::error(ErrorCode::kTimeout)), 69);
  EXPECT_EQ(exit_code_for(Status::error(ErrorCode::kCertificateUntrusted)), 1);
  EXPECT_EQ(exit_code_for(Status::error(ErrorCode::kNotFound)), 1);
  EXPECT_TRUE(is_network_error(ErrorCode::kUnavailable));
  EXPECT_FALSE(is_network_error(ErrorCode::kRateLimited));
}

}  // namespace
}  // namespace parley::cli
