// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Where a home lives when the app is not given one (--home): shared by the CLI and the desktop
// app, so both open the same account on one computer (home_lock.h keeps them from both
// connecting).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "parley/util/status.h"

namespace parley::client {

// Reads an environment variable; nullopt when unset. Tests pass a map instead of the process's.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup process_env();

// --home DIR, else $PARLEY_HOME, else $XDG_DATA_HOME/parley (when absolute, as the XDG spec
// requires), else $HOME/.local/share/parley. Empty values count as unset. kInvalidArgument when
// nothing gives a directory.
Result<std::filesystem::path> resolve_home(const std::optional<std::string>& flag,
                                           const EnvLookup& env);

}  // namespace parley::client
