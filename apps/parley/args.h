// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Checks of command-line input that need no server: fail early with a sentence that says what is
// wrong, before opening the database or connecting.

#include <istream>
#include <string>
#include <vector>

#include "parley/util/status.h"

namespace parley::cli {

// The text of `parley send USER [TEXT...]`: the words joined with single spaces, or all of `in`
// (one message) when there are none or the only one is "-", without one final newline. Empty or
// whitespace-only text: kInvalidArgument.
Result<std::string> message_text(const std::vector<std::string>& words, std::istream& in);

// "host:port" with a non-empty host (a name, an IPv4 address or "[IPv6]") and a port in 1..65535.
Status validate_server(const std::string& server);

// A SHA-256 certificate fingerprint: 64 hex digits, ':' separators allowed (as `parleyd gen-cert`
// and `openssl x509 -fingerprint -sha256` print them).
Status validate_pin(const std::string& pin);

// A device id as typed: a positive number that fits in 32 bits.
Result<std::uint32_t> parse_device_id(const std::string& text);

}  // namespace parley::cli
