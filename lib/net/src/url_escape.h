// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Percent-escapes (RFC 3986) for the URLs the client parses: proxy URLs (user and password) and
// parley://relay share links (the label).

#include <optional>
#include <string>
#include <string_view>

namespace parley::net {

enum class PlusIs { kPlus, kSpace };  // '+' is a space in query strings only

// nullopt for a broken escape ("%4", "%zz").
std::optional<std::string> percent_decode(std::string_view text, PlusIs plus);

// Escapes everything but RFC 3986 unreserved characters, so any byte survives a round trip.
std::string percent_encode(std::string_view text);

}  // namespace parley::net
