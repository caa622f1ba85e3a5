// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What a Parley client says to a parley-relay inside the outer TLS, and how the relay tells it
// apart from everything else. Pure functions (no sockets): used by the client dialer, by the
// relay, and by the relay's own upstream dialer when relays chain; fuzzed by
// parley_fuzz_relay_request.
//
// The client's first bytes look like an ordinary browser WebSocket request to the cover site:
//
//   GET /ws HTTP/1.1\r\n
//   Host: <sni or host>\r\n
//   User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n
//   Upgrade: websocket\r\n
//   Connection: Upgrade\r\n
//   Sec-WebSocket-Version: 13\r\n
//   Sec-WebSocket-Key: <base64 of 16 random bytes>\r\n
//   Cookie: sid=<secret hex>\r\n
//   \r\n
//
// A relay that finds its secret in the Cookie header answers kRelayAcceptResponse and from then
// on forwards raw bytes both ways (the client's inner TLS to parleyd). Anything else — another
// path, no or wrong cookie, garbage, an incomplete head after the relay's timeout, a head over
// kMaxRelayRequestBytes — is handed, with every byte already read, to the decoy site, so a
// prober sees exactly what the decoy site would answer.

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::net {

struct RelayLink;

inline constexpr std::size_t kMaxRelayRequestBytes = 4096;

// The relay's answer when the secret matched. Fixed text: the client compares the status line.
inline constexpr std::string_view kRelayAcceptResponse =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

// The client's request for `link` (fresh random Sec-WebSocket-Key each call).
std::string relay_request(const RelayLink& link);

enum class RelayRequestVerdict {
  kIncomplete,  // no blank line yet and under the size limit: read more (until the timeout)
  kParley,      // a complete head carrying the secret: answer kRelayAcceptResponse, forward
  kDecoy,       // anything else: hand every byte read so far to the decoy site
};

struct RelayRequestCheck {
  RelayRequestVerdict verdict = RelayRequestVerdict::kIncomplete;
  std::size_t head_bytes = 0;  // kParley: bytes of the request head (the rest is inner traffic)
};

// `received`: every byte read from the client so far. `secret_hex`: the relay's secret (32 hex).
// Compares the secret in constant time. Never throws, never reads past `received`.
RelayRequestCheck check_relay_request(std::string_view received, std::string_view secret_hex);

enum class RelayResponseVerdict { kIncomplete, kAccepted, kRefused };

struct RelayResponseCheck {
  RelayResponseVerdict verdict = RelayResponseVerdict::kIncomplete;
  std::size_t head_bytes = 0;  // kAccepted: bytes of the response head
};

// The client's view of the relay's answer: kAccepted on a complete "HTTP/1.1 101" head;
// kRefused on any other complete head, or over kMaxRelayRequestBytes (the secret is wrong or
// the link is stale: the relay served its decoy).
RelayResponseCheck check_relay_response(std::string_view received);

}  // namespace parley::net
