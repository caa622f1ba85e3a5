// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A parley-relay share link: everything a client needs to reach a relay and nothing more.
//
//   parley://relay?host=relay.example.org&port=443&secret=<32 hex>&pin=<64
//   hex>[&sni=cover.example][&name=Label]
//
// - host: where to connect (name or IP literal; IPv6 in brackets), port: default 443.
// - sni: the cover name sent in the outer TLS ClientHello (default: host when it is a name, none
//   when it is an IP literal).
// - secret: 16 random bytes the relay gave out; without it the relay serves only its decoy site.
// - pin: SHA-256 of the relay certificate's SubjectPublicKeyInfo (DER). The client accepts the
//   outer TLS only from that key, so the link alone authenticates the relay; no CA involved.
// - name: an optional label people see ("Anna's relay"); percent-encoded, ≤ 64 bytes.
//
// The same text is what the relay prints as a QR code. Parsing is strict (unknown keys, duplicate
// keys, bad hex, bad port are errors) because links travel through chats and QR codes.

#include <cstdint>
#include <string>
#include <string_view>

#include "parley/util/status.h"

namespace parley::net {

inline constexpr std::size_t kRelayLinkMaxBytes = 1024;
inline constexpr std::size_t kRelaySecretBytes = 16;

struct RelayLink {
  std::string host;  // a name or IP literal; IPv6 without the brackets the link text has
  std::uint16_t port = 443;
  std::string sni;         // empty: see above
  std::string secret_hex;  // 32 lowercase hex digits
  std::string pin_hex;     // 64 lowercase hex digits
  std::string name;        // optional label, decoded

  // "relay.example.org:443" or the name when one is set, for status lines ("connected via …").
  std::string display() const;
  // The SNI actually sent: sni, else host when it is not an IP literal, else "".
  std::string effective_sni() const;
};

// kInvalidArgument with a sentence that names the bad part (never echoes the secret).
Result<RelayLink> parse_relay_link(std::string_view text);

// The canonical link text (keys in the order above; name only when set).
std::string format_relay_link(const RelayLink& link);

// The link's pin for a certificate: lowercase hex SHA-256 of its SubjectPublicKeyInfo (DER), the
// value the relay prints in its link and the client checks in the outer TLS. Pinning the key
// rather than the certificate lets a relay renew its certificate without new links.
// kInvalidArgument when `pem` holds no PEM certificate.
Result<std::string> spki_pin_of_certificate_pem(std::string_view pem);

}  // namespace parley::net
