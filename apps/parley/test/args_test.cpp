// SPDX-License-Identifier: AGPL-3.0-or-later
#include "args.h"

#include <gtest/gtest.h>

#include <sstream>

namespace parley::cli {
namespace {

TEST(MessageTextTest, JoinsWords) {
  std::istringstream in("not read");
  EXPECT_EQ(*message_text({"hello", "there,", "bob"}, in), "hello there, bob");
  EXPECT_EQ(*message_text({"  keeps inner  spaces"}, in), "  keeps inner  spaces");
}

TEST(MessageTextTest, ReadsStdinWithoutWordsOrWithDash) {
  std::istringstream in("line one\nline two\n");
  EXPECT_EQ(*message_text({}, in), "line one\nline two");
  std::istringstream dash("from a pipe\n");
  EXPECT_EQ(*message_text({"-"}, dash), "from a pipe");
  std::istringstream two_newlines("kept\n\n");
  EXPECT_EQ(*message_text({}, two_newlines), "kept\n");  // only the final newline goes
}

TEST(MessageTextTest, DashAmongWordsIsText) {
  std::istringstream in("not read");
  EXPECT_EQ(*message_text({"a", "-", "b"}, in), "a - b");
}

TEST(MessageTextTest, RefusesEmpty) {
  std::istringstream empty("");
  auto from_stdin = message_text({}, empty);
  ASSERT_FALSE(from_stdin.ok());
  EXPECT_EQ(from_stdin.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(from_stdin.status().message().find("stdin"), std::string::npos);
  std::istringstream blank(" \n\t\n");
  EXPECT_FALSE(message_text({"-"}, blank).ok());
  std::istringstream unused("");
  EXPECT_FALSE(message_text({"", " "}, unused).ok());
}

TEST(ServerTest, AcceptsHostPort) {
  EXPECT_TRUE(validate_server("localhost:8443").ok());
  EXPECT_TRUE(validate_server("127.0.0.1:1").ok());
  EXPECT_TRUE(validate_server("chat.example.org:65535").ok());
  EXPECT_TRUE(validate_server("[::1]:8443").ok());
}

TEST(ServerTest, RejectsMalformed) {
  for (const char* server :
       {"", "localhost", ":8443", "host:", "host:0", "host:65536", "host:-1", "host:80a",
        "::1:8443", "[::1:8443", "[]:8443", "ho st:1", "https://host:1", "user@host:1"}) {
    Status status = validate_server(server);
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << server;
  }
}

TEST(PinTest, AcceptsSha256Forms) {
  std::string hex(64, 'a');
  EXPECT_TRUE(validate_pin(hex).ok());
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += (i ? ":" : "") + std::string("AB");
  EXPECT_TRUE(validate_pin(colons).ok());
}

TEST(PinTest, RejectsOthers) {
  EXPECT_FALSE(validate_pin(std::string(63, 'a')).ok());
  EXPECT_FALSE(validate_pin(std::string(65, 'a')).ok());
  EXPECT_FALSE(validate_pin(std::string(64, 'g')).ok());
  EXPECT_FALSE(validate_pin("").ok());
}

TEST(DeviceIdTest, Parses) {
  EXPECT_EQ(*parse_device_id("2"), 2u);
  EXPECT_EQ(*parse_device_id("4294967295"), 4294967295u);
  for (const char* text : {"", "0", "-1", "2x", " 2", "4294967296", "two"}) {
    EXPECT_FALSE(parse_device_id(text).ok()) << text;
  }
}

}  // namespace
}  // namespace parley::cli
