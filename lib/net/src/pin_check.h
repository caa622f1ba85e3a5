// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The pins the WebSocket channel checks after a TLS handshake, before it sends a byte: parleyd's
// certificate (TlsTrust::pinned_sha256) and a relay's key (the relay link's pin). Plain OpenSSL:
// no Asio here.

#include <openssl/ssl.h>

#include <string>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::net {

// The SHA-256 of the peer's leaf certificate (DER) against `pin` (kSha256Bytes, from
// parse_pinned_sha256()). kCertificateUntrusted when it differs or is missing; `endpoint` is for
// the message.
Status check_certificate_pin(SSL* ssl, const Bytes& pin, const std::string& endpoint);

// The SHA-256 of the relay's public key (SubjectPublicKeyInfo, DER) against the link's pin,
// 64 lower-case hex digits. kCertificateUntrusted when it differs or is missing; `target` is for
// the message.
Status check_relay_key_pin(SSL* ssl, const std::string& pin_hex, const std::string& target);

}  // namespace parley::net
