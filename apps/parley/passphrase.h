// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The database passphrase, from --passphrase-file or $PARLEY_PASSPHRASE. Without either the home
// uses a random key file instead (see parley/client/database_key.h).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "parley/client/home_path.h"
#include "parley/util/status.h"

namespace parley::cli {

// The file's content without one final "\n" or "\r\n" (editors add one). The file wins over the
// environment. An empty passphrase is refused (kInvalidArgument) rather than silently meaning
// "no passphrase": the choice between the two is fixed when a home is created.
Result<std::optional<std::string>> load_passphrase(const std::optional<std::string>& file,
                                                   const client::EnvLookup& env);

// Removes one trailing "\n" or "\r\n".
std::string_view strip_final_newline(std::string_view text);

}  // namespace parley::cli
