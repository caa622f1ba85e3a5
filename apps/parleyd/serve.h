// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "config.h"

namespace parley::parleyd {

// Runs the server until SIGTERM or SIGINT, then shuts down gracefully. Returns the exit code.
// SIGTERM and SIGINT must already be blocked in every thread (main() does it first).
int serve(const ServeSettings& settings);

}  // namespace parley::parleyd
