// SPDX-License-Identifier: AGPL-3.0-or-later
#include "channel_text.h"

#include <gtest/gtest.h>

namespace parley::net {
namespace {

TEST(ChannelTextTest, MillisText) {
  EXPECT_EQ(millis_text(std::chrono::milliseconds(0)), "0 ms");
  EXPECT_EQ(millis_text(std::chrono::milliseconds(1500)), "1500 ms");
}

TEST(ChannelTextTest, AuthorityBracketsOnlyIpv6) {
  EXPECT_EQ(authority("chat.example", 443), "chat.example:443");
  EXPECT_EQ(authority("192.0.2.1", 8443), "192.0.2.1:8443");
  EXPECT_EQ(authority("2001:db8::1", 443), "[2001:db8::1]:443");
}

TEST(ChannelTextTest, PrintableKeepsAsciiAndCutsAt123Bytes) {
  EXPECT_EQ(printable("going away"), "going away");
  EXPECT_EQ(printable(std::string_view("a\0b\n\x7f\xc3\xa9", 7)), "a?b????");
  // A WebSocket close reason is at most 123 bytes; anything longer is not echoed.
  EXPECT_EQ(printable(std::string(200, 'x')), std::string(123, 'x'));
}

TEST(ChannelTextTest, Socks5ReplyTexts) {
  EXPECT_EQ(socks5_reply_text(1), "general failure");
  EXPECT_EQ(socks5_reply_text(2), "not allowed by its rules");
  EXPECT_EQ(socks5_reply_text(5), "connection refused");
  EXPECT_EQ(socks5_reply_text(8), "address type not supported");
  EXPECT_EQ(socks5_reply_text(0), "unknown error");  // success is not a failure text
  EXPECT_EQ(socks5_reply_text(9), "unknown error");
  EXPECT_EQ(socks5_reply_text(255), "unknown error");
}

TEST(ChannelTextTest, LowercaseHex) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(lowercase_hex(bytes, sizeof bytes), "000fa5ff");
  EXPECT_EQ(lowercase_hex(bytes, 0), "");
}

}  // namespace
}  // namespace parley::net
