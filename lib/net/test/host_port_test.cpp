// SPDX-License-Identifier: AGPL-3.0-or-later
#include <gtest/gtest.h>

#include "parley/net/websocket_channel.h"

namespace parley::net {
namespace {

TEST(HostPortTest, ParsesNamesAndIpv4) {
  auto parsed = parse_host_port("chat.example.org:8443");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->host, "chat.example.org");
  EXPECT_EQ(parsed->port, 8443);

  parsed = parse_host_port("127.0.0.1:1");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 1);

  parsed = parse_host_port("localhost:65535");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->port, 65535);
}

TEST(HostPortTest, ParsesBracketedIpv6) {
  auto parsed = parse_host_port("[::1]:8443");
  ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 8443);

  parsed = parse_host_port("[2001:db8::7]:443");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->host, "2001:db8::7");
  EXPECT_EQ(parsed->port, 443);
}

// Every refusal is kInvalidArgument and its message says what is wrong.
void expect_refused(const std::string& text, const std::string& why) {
  auto parsed = parse_host_port(text);
  ASSERT_FALSE(parsed.ok()) << "accepted '" << text << "'";
  EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << text;
  EXPECT_NE(parsed.status().message().find(why), std::string::npos)
      << "'" << text << "': " << parsed.status().message();
}

TEST(HostPortTest, RefusesAMissingPort) {
  expect_refused("example.org", "the port is missing");
  expect_refused("example.org:", "the port is missing");
  expect_refused("[::1]", "the port is missing");
  expect_refused("[::1]8443", "the port is missing");
}

TEST(HostPortTest, RefusesPortsOutOfRange) {
  expect_refused("example.org:0", "between 1 and 65535");
  expect_refused("example.org:00000", "between 1 and 65535");
  expect_refused("example.org:65536", "at most 65535");
  expect_refused("example.org:99999999999999999999", "at most 65535");
}

TEST(HostPortTest, RefusesPortsThatAreNotNumbers) {
  expect_refused("example.org:https", "must be a number");
  expect_refused("example.org:+443", "must be a number");
  expect_refused("example.org: 443", "must be a number");
  expect_refused("example.org:-1", "must be a number");
}

TEST(HostPortTest, RefusesAnEmptyHost) {
  expect_refused("", "it is empty");
  expect_refused(":8443", "the host is empty");
  expect_refused("[]:8443", "brackets are only for IPv6");
}

TEST(HostPortTest, RefusesMalformedHosts) {
  expect_refused("::1:8443", "needs brackets");
  expect_refused("[::1:8443", "no matching ']'");
  expect_refused("[127.0.0.1]:8443", "brackets are only for IPv6");
  expect_refused("exa mple.org:8443", "not allowed");
  expect_refused("user@example.org:8443", "not allowed");
}

}  // namespace
}  // namespace parley::net
