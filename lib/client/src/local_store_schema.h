// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The local database's schema as a list of forward migrations. Migration N takes a database at
// user_version N-1 to N; each runs in its own transaction together with the user_version bump.

#include <span>

namespace parley::client {

struct Migration {
  int version;      // the user_version after this step
  const char* sql;  // one or more statements
};

// Ascending by version, 1..LocalStore::kSchemaVersion, no gaps.
std::span<const Migration> migrations();

}  // namespace parley::client
