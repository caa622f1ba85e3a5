// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// SHA-1, only to name Lua scripts for EVALSHA the way Redis does (not for security: Redis chose
// SHA-1 as a cache key). Computed by OpenSSL, like every other digest in Parley.

#include <string>
#include <string_view>

namespace parley::redis::detail {

// Lowercase hex, as SCRIPT LOAD returns it: sha1_hex("abc") == "a9993e36...".
std::string sha1_hex(std::string_view data);

}  // namespace parley::redis::detail
