// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Certificate pins as people write them. `parleyd gen-cert` and the server's log print the
// SHA-256 of the certificate's DER encoding as "SHA256:AB:CD:…" (gateway::certificate_fingerprint);
// a pin is accepted in that form, or as the bare hex digits, with or without ':' and in any case.

#include <string>
#include <string_view>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::net {

inline constexpr std::size_t kSha256Bytes = 32;

// The 32 digest bytes of a pin. kInvalidArgument with a sentence when it is not a SHA-256.
Result<Bytes> parse_pinned_sha256(std::string_view text);

// "SHA256:AB:CD:…", the same form the server prints.
std::string format_sha256_fingerprint(ByteView digest);

}  // namespace parley::net
