// SPDX-License-Identifier: AGPL-3.0-or-later
// check_relay_request() and check_relay_response() over arbitrary bytes: the relay reads the
// first bytes of every client and prober, the client reads whatever answers in the relay's place.
// Never crash; kParley only when the head really carries the fixed secret as the sid cookie and
// its head fits the limit; head_bytes within the input; the same for the response side.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parley/net/relay_handshake.h"

namespace {
constexpr std::string_view kSecret = "00112233445566778899aabbccddeeff";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using parley::net::RelayRequestVerdict;
  using parley::net::RelayResponseVerdict;
  std::string_view received(reinterpret_cast<const char*>(data), size);

  auto request = parley::net::check_relay_request(received, kSecret);
  if (request.verdict == RelayRequestVerdict::kParley) {
    if (request.head_bytes == 0 || request.head_bytes > size ||
        request.head_bytes > parley::net::kMaxRelayRequestBytes) {
      std::abort();
    }
    std::string_view head = received.substr(0, request.head_bytes);
    if (head.substr(head.size() - 4) != "\r\n\r\n") std::abort();
    if (head.find("GET /ws HTTP/1.1\r\n") != 0) std::abort();
    if (head.find("sid=" + std::string(kSecret)) == std::string_view::npos) std::abort();
  } else if (request.head_bytes != 0) {
    std::abort();
  }
  if (request.verdict == RelayRequestVerdict::kIncomplete &&
      size >= parley::net::kMaxRelayRequestBytes) {
    std::abort();  // a relay must never wait forever on an oversized head
  }
  // With another secret the same bytes are never accepted unless they also carry that one.
  auto other = parley::net::check_relay_request(received, "ffeeddccbbaa99887766554433221100");
  if (other.verdict == RelayRequestVerdict::kParley &&
      received.find("ffeeddccbbaa99887766554433221100") == std::string_view::npos) {
    std::abort();
  }

  auto response = parley::net::check_relay_response(received);
  if (response.verdict == RelayResponseVerdict::kAccepted) {
    if (response.head_bytes == 0 || response.head_bytes > size) std::abort();
    if (received.find("HTTP/1.1 101 ") != 0) std::abort();
  } else if (response.head_bytes != 0) {
    std::abort();
  }
  if (response.verdict == RelayResponseVerdict::kIncomplete &&
      size >= parley::net::kMaxRelayRequestBytes) {
    std::abort();
  }
  return 0;
}
