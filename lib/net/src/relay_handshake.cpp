// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/net/relay_handshake.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>

#include "parley/net/relay_link.h"
#include "parley/util/bytes.h"
#include "parley/util/encoding.h"
#include "relay_handshake_internal.h"

namespace parley::net {
namespace detail {
namespace {
std::atomic<unsigned long> compare_count{0};
}  // namespace

bool secret_equal(std::string_view a, std::string_view b) {
  compare_count.fetch_add(1, std::memory_order_relaxed);
  // The length is public (32 hex digits for every relay); only the bytes need constant time.
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

unsigned long secret_compare_count() {
  return compare_count.load(std::memory_order_relaxed);
}

}  // namespace detail

namespace {

constexpr std::string_view kRequestLine = "GET /ws HTTP/1.1\r\n";
constexpr std::string_view kHeadEnd = "\r\n\r\n";
constexpr std::string_view kCookieName = "sid";
constexpr std::string_view kAcceptStatus = "HTTP/1.1 101 ";

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether one Cookie header value ("a=b; sid=…; c=d") holds sid=<secret>. Every sid cookie is
// compared, in constant time each.
bool cookie_holds_secret(std::string_view value, std::string_view secret_hex) {
  bool found = false;
  while (true) {
    std::size_t semicolon = value.find(';');
    std::string_view cookie = trim(value.substr(0, semicolon));
    std::size_t eq = cookie.find('=');
    // RFC 6265 §4.2.1: "name=value" with no space around '=', as every browser sends it.
    if (eq != std::string_view::npos && cookie.substr(0, eq) == kCookieName) {
      std::string_view candidate = cookie.substr(eq + 1);
      // No short cut once found: every sid cookie costs the same.
      found = detail::secret_equal(candidate, secret_hex) || found;
    }
    if (semicolon == std::string_view::npos) break;
    value.remove_prefix(semicolon + 1);
  }
  return found;
}

}  // namespace

std::string relay_request(const RelayLink& link) {
  std::array<std::uint8_t, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    // Never reached in practice; a fixed key is still a valid request (the relay ignores it).
    nonce.fill(0x5a);
  }
  std::string host = link.effective_sni();
  if (host.empty())
    host = link.host.find(':') != std::string::npos ? "[" + link.host + "]" : link.host;
  if (link.port != 443) host += ":" + std::to_string(link.port);  // as a browser writes it
  std::string request(kRequestLine);
  request += "Host: " + host + "\r\n";
  request +=
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n";
  request += "Upgrade: websocket\r\n";
  request += "Connection: Upgrade\r\n";
  request += "Sec-WebSocket-Version: 13\r\n";
  request += "Sec-WebSocket-Key: " + base64_encode(ByteView(nonce.data(), nonce.size())) + "\r\n";
  request += "Cookie: sid=" + link.secret_hex + "\r\n";
  request += "\r\n";
  return request;
}

RelayRequestCheck check_relay_request(std::string_view received, std::string_view secret_hex) {
  RelayRequestCheck check;
  // Anything that does not start like our request goes to the decoy at once, so the decoy
  // answers a prober exactly as quickly as it would on its own.
  std::size_t prefix = std::min(received.size(), kRequestLine.size());
  if (received.substr(0, prefix) != kRequestLine.substr(0, prefix)) {
    check.verdict = RelayRequestVerdict::kDecoy;
    return check;
  }
  std::string_view window = received.substr(0, std::min(received.size(), kMaxRelayRequestBytes));
  std::size_t end = window.find(kHeadEnd);
  if (end == std::string_view::npos) {
    check.verdict = received.size() >= kMaxRelayRequestBytes ? RelayRequestVerdict::kDecoy
                                                             : RelayRequestVerdict::kIncomplete;
    return check;
  }
  check.verdict = RelayRequestVerdict::kDecoy;
  if (secret_hex.empty()) return check;
  // Header lines between the request line and the blank line, in any order.
  std::string_view headers = received.substr(kRequestLine.size(), end + 2 - kRequestLine.size());
  bool found = false;
  while (!headers.empty()) {
    std::size_t line_end = headers.find("\r\n");
    std::string_view line = headers.substr(0, line_end);
    headers.remove_prefix(line_end + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return check;  // not HTTP: decoy
    std::string_view name = line.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) return check;
    if (equal_ignoring_case(name, "cookie")) {
      found = cookie_holds_secret(line.substr(colon + 1), secret_hex) || found;
    }
  }
  if (found) {
    check.verdict = RelayRequestVerdict::kParley;
    check.head_bytes = end + kHeadEnd.size();
  }
  return check;
}

RelayResponseCheck check_relay_response(std::string_view received) {
  RelayResponseCheck check;
  std::string_view window = received.substr(0, std::min(received.size(), kMaxRelayRequestBytes));
  std::size_t end = window.find(kHeadEnd);
  if (end == std::string_view::npos) {
    if (received.size() >= kMaxRelayRequestBytes) check.verdict = RelayResponseVerdict::kRefused;
    return check;
  }
  if (received.substr(0, kAcceptStatus.size()) == kAcceptStatus) {
    check.verdict = RelayResponseVerdict::kAccepted;
    check.head_bytes = end + kHeadEnd.size();
  } else {
    check.verdict = RelayResponseVerdict::kRefused;
  }
  return check;
}

}  // namespace parley::net
