// SPDX-License-Identifier: AGPL-3.0-or-later
#include "websocket_options.h"

#include <gtest/gtest.h>

#include <string>

namespace parley::net {
namespace {

WebSocketChannelOptions valid() {
  WebSocketChannelOptions options;
  options.host = "chat.example";
  options.port = 443;
  return options;
}

TEST(WebSocketOptionsTest, AcceptsTheDefaultsWithAHostAndPort) {
  EXPECT_TRUE(check_options(valid()).ok());
}

TEST(WebSocketOptionsTest, RefusesWhatCannotWork) {
  auto refused = [](const WebSocketChannelOptions& options) {
    Status status = check_options(options);
    return !status.ok() && status.code() == ErrorCode::kInvalidArgument;
  };
  WebSocketChannelOptions options = valid();
  options.host.clear();
  EXPECT_TRUE(refused(options));
  options = valid();
  options.port = 0;
  EXPECT_TRUE(refused(options));
  options = valid();
  options.path = "ws";
  EXPECT_TRUE(refused(options));
  options = valid();
  options.addresses = {"192.0.2.1", "chat.example"};
  EXPECT_TRUE(refused(options));
  options = valid();
  options.proxy.kind = ProxyKind::kSocks5;
  EXPECT_TRUE(refused(options));  // no proxy host
  options.proxy.host = "127.0.0.1";
  options.proxy.port = 1080;
  EXPECT_TRUE(check_options(options).ok());
  options.host = std::string(256, 'a');
  EXPECT_TRUE(refused(options));  // too long for SOCKS5
}

TEST(WebSocketOptionsTest, IpAddressAsAsioReadsIt) {
  EXPECT_TRUE(is_ip_address("192.0.2.1"));
  EXPECT_TRUE(is_ip_address("2001:db8::1"));
  EXPECT_FALSE(is_ip_address("[2001:db8::1]"));
  EXPECT_FALSE(is_ip_address("chat.example"));
  EXPECT_FALSE(is_ip_address(""));
}

}  // namespace
}  // namespace parley::net
