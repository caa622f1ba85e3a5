// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Usernames are ASCII only: upper case is folded to lower case, then the name must match
// [a-z0-9_.]{3,32}. (Unicode NFKC folding is not available to us, and allowing non-ASCII
// without it would let look-alike names coexist; so non-ASCII is refused with a clear error.)

#include <string>
#include <string_view>

#include "parley/util/status.h"

namespace parley::proto {

// The normalized name, or kInvalidUsername with a message saying what is wrong.
Result<std::string> normalize_username(std::string_view input);

}  // namespace parley::proto
