// SPDX-License-Identifier: AGPL-3.0-or-later
#include <gtest/gtest.h>

#include <string>

#include "parley/net/proxy.h"

namespace parley::net {
namespace {

TEST(ProxyUrlTest, DisabledForNoneOffAndEmpty) {
  for (const char* text : {"", "none", "off", "NONE", "  Off  "}) {
    auto proxy = parse_proxy_url(text);
    ASSERT_TRUE(proxy.ok()) << text << ": " << proxy.status().to_string();
    EXPECT_FALSE(proxy->enabled()) << text;
    EXPECT_EQ(proxy_display(*proxy), "none");
    EXPECT_EQ(proxy_url(*proxy), "none");
  }
}

TEST(ProxyUrlTest, ParsesSocks5AndSocks5h) {
  for (const char* text :
       {"socks5://127.0.0.1:9050", "socks5h://127.0.0.1:9050", "SOCKS5://127.0.0.1:9050/"}) {
    auto proxy = parse_proxy_url(text);
    ASSERT_TRUE(proxy.ok()) << text << ": " << proxy.status().to_string();
    EXPECT_EQ(proxy->kind, ProxyKind::kSocks5);
    EXPECT_EQ(proxy->host, "127.0.0.1");
    EXPECT_EQ(proxy->port, 9050);
    EXPECT_TRUE(proxy->username.empty());
    EXPECT_EQ(proxy_url(*proxy), "socks5://127.0.0.1:9050");
  }
}

TEST(ProxyUrlTest, ParsesHttpWithCredentialsAndEscapes) {
  auto proxy = parse_proxy_url("http://anna%20b:p%40ss:w%3Ard@proxy.example.org:3128");
  ASSERT_TRUE(proxy.ok()) << proxy.status().to_string();
  EXPECT_EQ(proxy->kind, ProxyKind::kHttpConnect);
  EXPECT_EQ(proxy->host, "proxy.example.org");
  EXPECT_EQ(proxy->port, 3128);
  EXPECT_EQ(proxy->username, "anna b");
  EXPECT_EQ(proxy->password, "p@ss:w:rd");
}

TEST(ProxyUrlTest, UnescapedAtInPasswordStillWorks) {
  auto proxy = parse_proxy_url("socks5://user:p@ss@127.0.0.1:1080");
  ASSERT_TRUE(proxy.ok()) << proxy.status().to_string();
  EXPECT_EQ(proxy->username, "user");
  EXPECT_EQ(proxy->password, "p@ss");
}

TEST(ProxyUrlTest, ParsesBracketedIpv6) {
  auto proxy = parse_proxy_url("socks5://[::1]:1080");
  ASSERT_TRUE(proxy.ok()) << proxy.status().to_string();
  EXPECT_EQ(proxy->host, "::1");
  EXPECT_EQ(proxy_url(*proxy), "socks5://[::1]:1080");
}

TEST(ProxyUrlTest, RoundTripsEveryByteOfCredentials) {
  ProxyConfig proxy;
  proxy.kind = ProxyKind::kSocks5;
  proxy.host = "127.0.0.1";
  proxy.port = 1080;
  for (int c = 1; c < 256; ++c) proxy.password += static_cast<char>(c);
  proxy.username = "us:er@x/%";
  proxy.password.resize(255);
  auto again = parse_proxy_url(proxy_url(proxy));
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->kind, proxy.kind);
  EXPECT_EQ(again->host, proxy.host);
  EXPECT_EQ(again->port, proxy.port);
  EXPECT_EQ(again->username, proxy.username);
  EXPECT_EQ(again->password, proxy.password);
}

TEST(ProxyUrlTest, DisplayHidesThePassword) {
  auto proxy = parse_proxy_url("http://anna:hunter2@127.0.0.1:8080");
  ASSERT_TRUE(proxy.ok());
  std::string shown = proxy_display(*proxy);
  EXPECT_EQ(shown, "http://anna:***@127.0.0.1:8080");
  EXPECT_EQ(shown.find("hunter2"), std::string::npos);
  EXPECT_EQ(proxy_url(*proxy), "http://anna:hunter2@127.0.0.1:8080");
  proxy->username.clear();
  proxy->password.clear();
  EXPECT_EQ(proxy_display(*proxy), "http://127.0.0.1:8080");
}

TEST(ProxyUrlTest, RefusesMalformedUrls) {
  for (const char* text : {
           "127.0.0.1:1080",                   // no scheme
           "socks4://127.0.0.1:1080",          // unsupported scheme
           "https://127.0.0.1:1080",           // unsupported scheme
           "socks5://127.0.0.1",               // no port
           "socks5://127.0.0.1:",              // empty port
           "socks5://127.0.0.1:0",             // port 0
           "socks5://127.0.0.1:65536",         // port too large
           "socks5://127.0.0.1:123456",        // too many digits
           "socks5://127.0.0.1:1a",            // not a number
           "socks5://:1080",                   // no host
           "socks5://exa mple:1080",           // space in host
           "socks5://[::1:1080",               // unclosed bracket
           "socks5://[nothex]:1080",           // bracketed non-IPv6
           "socks5://[::1]1080",               // no colon after bracket
           "socks5://127.0.0.1:1080/path",     // a path
           "socks5://127.0.0.1:1080?x=1",      // a query
           "socks5://:secret@127.0.0.1:1080",  // password without user
           "socks5://us%zzer:pw@127.0.0.1:1080",
           "socks5://user:pw%4@127.0.0.1:1080",
       }) {
    auto proxy = parse_proxy_url(text);
    EXPECT_FALSE(proxy.ok()) << text;
    if (!proxy.ok()) {
      EXPECT_EQ(proxy.status().code(), ErrorCode::kInvalidArgument) << text;
      EXPECT_FALSE(proxy.status().message().empty());
    }
  }
}

TEST(ProxyUrlTest, EnforcesLimits) {
  std::string long_user(256, 'u');
  EXPECT_FALSE(parse_proxy_url("socks5://" + long_user + ":pw@127.0.0.1:1080").ok());
  EXPECT_TRUE(parse_proxy_url("socks5://" + long_user.substr(1) + ":pw@127.0.0.1:1080").ok());
  std::string long_password(256, 'p');
  EXPECT_FALSE(parse_proxy_url("socks5://u:" + long_password + "@127.0.0.1:1080").ok());
  EXPECT_TRUE(parse_proxy_url("socks5://u:" + long_password.substr(1) + "@127.0.0.1:1080").ok());
  std::string long_host(254, 'h');
  EXPECT_FALSE(parse_proxy_url("socks5://" + long_host + ":1080").ok());
  EXPECT_TRUE(parse_proxy_url("socks5://" + long_host.substr(1) + ":1080").ok());
}

TEST(ProxyUrlTest, ErrorsNeverContainThePassword) {
  for (const char* text : {"socks5://user:topsecretpw@127.0.0.1", "socks4://user:topsecretpw@h:1",
                           "socks5://user:topsecretpw%zz@h:1", "http://user:topsecretpw@h:1/x"}) {
    auto proxy = parse_proxy_url(text);
    ASSERT_FALSE(proxy.ok()) << text;
    EXPECT_EQ(proxy.status().message().find("topsecretpw"), std::string::npos)
        << proxy.status().message();
  }
}

}  // namespace
}  // namespace parley::net
