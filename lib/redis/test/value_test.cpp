// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/value.h"

#include <gtest/gtest.h>

namespace parley::redis {
namespace {

TEST(RedisValue, Kinds) {
  EXPECT_TRUE(RedisValue().is_nil());
  EXPECT_EQ(RedisValue::integer(-5).as_integer(), -5);
  EXPECT_EQ(RedisValue::string(std::string("a\0b", 3)).text().size(), 3u);
  EXPECT_TRUE(RedisValue::status("OK").is_status());
  RedisValue array = RedisValue::array({RedisValue::integer(1), RedisValue::nil()});
  ASSERT_TRUE(array.is_array());
  EXPECT_EQ(array.elements().size(), 2u);
  EXPECT_EQ(array, RedisValue::array({RedisValue::integer(1), RedisValue::nil()}));
}

TEST(RedisValue, ErrorStatusKeepsOnlyTheErrorWord) {
  RedisValue error = RedisValue::error("WRONGTYPE Operation against a key holding secret-key-name");
  EXPECT_EQ(error.error_prefix(), "WRONGTYPE");
  Status status = error.error_status("GET");
  EXPECT_EQ(status.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "redis refused GET: WRONGTYPE");
  EXPECT_EQ(status.message().find("secret"), std::string::npos);
}

TEST(RedisValue, ErrorStatusCodes) {
  EXPECT_EQ(RedisValue::error("CLUSTERDOWN The cluster is down").error_status("X").code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(RedisValue::error("TRYAGAIN Multiple keys").error_status("X").code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(RedisValue::error("OOM command not allowed").error_status("X").code(),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(RedisValue::error("NOSCRIPT No matching script").error_status("X").code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(RedisValue::integer(1).error_status("X").ok());
  // An error whose first word is not a code word (a script's own error text) is not quoted.
  EXPECT_EQ(RedisValue::error("user data here").error_status("EVAL").message(),
            "redis refused EVAL: error");
}

}  // namespace
}  // namespace parley::redis
