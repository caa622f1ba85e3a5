// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/relay_handshake.h"

#include <gtest/gtest.h>

#include <string>

#include "parley/net/relay_link.h"
#include "parley/util/encoding.h"
#include "relay_handshake_internal.h"

namespace parley::net {
namespace {

constexpr std::string_view kSecret = "00112233445566778899aabbccddeeff";

RelayLink test_link() {
  RelayLink link;
  link.host = "relay.example.org";
  link.port = 443;
  link.secret_hex = std::string(kSecret);
  link.pin_hex = std::string(64, 'a');
  return link;
}

std::string head_with(const std::string& headers) {
  return "GET /ws HTTP/1.1\r\n" + headers + "\r\n";
}

TEST(RelayHandshakeTest, RequestLooksLikeABrowserAndCarriesTheSecret) {
  std::string request = relay_request(test_link());
  EXPECT_EQ(request.rfind("GET /ws HTTP/1.1\r\nHost: relay.example.org\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nCookie: sid=" + std::string(kSecret) + "\r\n"), std::string::npos);
  EXPECT_NE(request.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(request.find("User-Agent: Mozilla/5.0"), std::string::npos);
  EXPECT_EQ(request.substr(request.size() - 4), "\r\n\r\n");
  // The key is base64 of 16 bytes and fresh each time.
  std::size_t at = request.find("Sec-WebSocket-Key: ");
  ASSERT_NE(at, std::string::npos);
  std::string key = request.substr(at + 19, request.find("\r\n", at) - at - 19);
  auto decoded = base64_decode(key);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 16u);
  EXPECT_NE(relay_request(test_link()), request);
  EXPECT_LE(request.size(), kMaxRelayRequestBytes);
}

TEST(RelayHandshakeTest, RequestHostUsesSniAndPort) {
  RelayLink link = test_link();
  link.sni = "cover.example.com";
  link.port = 8443;
  EXPECT_NE(relay_request(link).find("\r\nHost: cover.example.com:8443\r\n"), std::string::npos);
  link.sni.clear();
  link.host = "::1";
  EXPECT_NE(relay_request(link).find("\r\nHost: [::1]:8443\r\n"), std::string::npos);
}

TEST(RelayHandshakeTest, AcceptsItsOwnRequestWithTrailingInnerBytes) {
  std::string request = relay_request(test_link());
  auto check = check_relay_request(request + "\x16\x03\x01 inner TLS", kSecret);
  EXPECT_EQ(check.verdict, RelayRequestVerdict::kParley);
  EXPECT_EQ(check.head_bytes, request.size());
}

TEST(RelayHandshakeTest, IncompleteUntilTheBlankLine) {
  std::string request = relay_request(test_link());
  for (std::size_t size : {0ul, 1ul, 10ul, 30ul, request.size() - 1}) {
    auto check = check_relay_request(std::string_view(request).substr(0, size), kSecret);
    EXPECT_EQ(check.verdict, RelayRequestVerdict::kIncomplete) << size;
  }
}

TEST(RelayHandshakeTest, HeaderNamesAreCaseInsensitiveAndOrderFree) {
  std::string secret(kSecret);
  for (const std::string& headers : {
           "cookie: sid=" + secret + "\r\nHost: a\r\n",
           "Host: a\r\nCOOKIE:sid=" + secret + "\r\n",
           "Host: a\r\nCookie: theme=dark; sid=" + secret + "; lang=en\r\n",
           "Cookie: a=b\r\nX: y\r\nCookie: sid=" + secret + "\r\n",
           "Cookie: sid=wrong; sid=" + secret + "\r\n",
       }) {
    auto check = check_relay_request(head_with(headers), kSecret);
    EXPECT_EQ(check.verdict, RelayRequestVerdict::kParley) << headers;
    EXPECT_EQ(check.head_bytes, head_with(headers).size());
  }
}

TEST(RelayHandshakeTest, EverythingElseGoesToTheDecoy) {
  std::string secret(kSecret);
  std::string almost = secret;
  almost.back() = 'e';
  for (const std::string& text : {
           std::string("\x16\x03\x01\x02\x00", 5),  // a TLS ClientHello
           std::string("GET / HTTP/1.1\r\nHost: a\r\nCookie: sid=") + secret + "\r\n\r\n",
           std::string("POST /ws HTTP/1.1\r\n"),
           std::string("GET /wss HTTP/1.1\r\n"),
           std::string("get /ws HTTP/1.1\r\n"),
           head_with("Host: a\r\n"),                                   // no cookie
           head_with("Cookie: sid=" + almost + "\r\n"),                // wrong secret
           head_with("Cookie: sid=" + secret.substr(0, 31) + "\r\n"),  // short
           head_with("Cookie: sid=" + secret + "0\r\n"),               // long
           head_with("Cookie: SID=" + secret + "\r\n"),                // cookie names are exact
           head_with("Cookie: xsid=" + secret + "\r\n"),
           head_with("Cookie: sid =" + secret + "\r\n"),  // no space around '=' (RFC 6265)
           head_with("Cookie: sid= " + secret + "\r\n"),
           head_with("X-Cookie: sid=" + secret + "\r\n"),
           head_with("Cookie sid=" + secret + "\r\n"),  // no colon
           head_with("Bad Header: x\r\nCookie: sid=" + secret + "\r\n"),
           head_with("Cookie: sid=" + secret.substr(0, 16) + "\r\n\r\n" + secret.substr(16) +
                     "\r\n"),
       }) {
    auto check = check_relay_request(text, kSecret);
    EXPECT_EQ(check.verdict, RelayRequestVerdict::kDecoy) << text;
    EXPECT_EQ(check.head_bytes, 0u);
  }
}

TEST(RelayHandshakeTest, OversizedHeadsGoToTheDecoy) {
  std::string head = "GET /ws HTTP/1.1\r\nX: " + std::string(kMaxRelayRequestBytes, 'x');
  EXPECT_EQ(check_relay_request(head, kSecret).verdict, RelayRequestVerdict::kDecoy);
  // The whole head must fit: a cookie past the limit does not count.
  std::string late = "GET /ws HTTP/1.1\r\nX: " + std::string(kMaxRelayRequestBytes - 30, 'x') +
                     "\r\nCookie: sid=" + std::string(kSecret) + "\r\n\r\n";
  ASSERT_GT(late.size(), kMaxRelayRequestBytes);
  EXPECT_EQ(check_relay_request(late, kSecret).verdict, RelayRequestVerdict::kDecoy);
  // Exactly at the limit is fine.
  std::string cookie = "Cookie: sid=" + std::string(kSecret) + "\r\n";
  std::string exact = "GET /ws HTTP/1.1\r\n" + cookie + "X: ";
  exact += std::string(kMaxRelayRequestBytes - exact.size() - 4, 'x') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), kMaxRelayRequestBytes);
  EXPECT_EQ(check_relay_request(exact, kSecret).verdict, RelayRequestVerdict::kParley);
}

TEST(RelayHandshakeTest, EmptySecretNeverMatches) {
  EXPECT_EQ(check_relay_request(head_with("Cookie: sid=\r\n"), "").verdict,
            RelayRequestVerdict::kDecoy);
}

TEST(RelayHandshakeTest, SecretIsComparedInConstantTime) {
  unsigned long before = detail::secret_compare_count();
  auto check = check_relay_request(relay_request(test_link()), kSecret);
  EXPECT_EQ(check.verdict, RelayRequestVerdict::kParley);
  EXPECT_EQ(detail::secret_compare_count(), before + 1);
  // Wrong secrets go through the same comparison (no early string compare).
  std::string wrong(kSecret);
  wrong[0] = 'f';
  before = detail::secret_compare_count();
  EXPECT_EQ(check_relay_request(head_with("Cookie: sid=" + wrong + "\r\n"), kSecret).verdict,
            RelayRequestVerdict::kDecoy);
  EXPECT_EQ(detail::secret_compare_count(), before + 1);
  EXPECT_TRUE(detail::secret_equal("abc", "abc"));
  EXPECT_FALSE(detail::secret_equal("abc", "abd"));
  EXPECT_FALSE(detail::secret_equal("abc", "abcd"));
  EXPECT_FALSE(detail::secret_equal("", "a"));
}

TEST(RelayHandshakeTest, ResponseVerdicts) {
  EXPECT_EQ(check_relay_response("").verdict, RelayResponseVerdict::kIncomplete);
  EXPECT_EQ(check_relay_response("HTTP/1.1 101 Switching").verdict,
            RelayResponseVerdict::kIncomplete);
  auto accepted = check_relay_response(std::string(kRelayAcceptResponse) + "\x16\x03\x03");
  EXPECT_EQ(accepted.verdict, RelayResponseVerdict::kAccepted);
  EXPECT_EQ(accepted.head_bytes, kRelayAcceptResponse.size());
  EXPECT_EQ(check_relay_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").verdict,
            RelayResponseVerdict::kRefused);
  EXPECT_EQ(check_relay_response("HTTP/1.1 404 Not Found\r\n\r\n").verdict,
            RelayResponseVerdict::kRefused);
  EXPECT_EQ(check_relay_response("HTTP/1.0 101 x\r\n\r\n").verdict, RelayResponseVerdict::kRefused);
  EXPECT_EQ(check_relay_response(std::string(kMaxRelayRequestBytes, 'x')).verdict,
            RelayResponseVerdict::kRefused);
  EXPECT_EQ(check_relay_response(std::string(kMaxRelayRequestBytes - 1, 'x')).verdict,
            RelayResponseVerdict::kIncomplete);
}

}  // namespace
}  // namespace parley::net
