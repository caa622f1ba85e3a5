// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Durations as people type them: "30s", "5m", "1h", "1d", "2w".

#include <chrono>
#include <string>
#include <string_view>

#include "parley/util/status.h"

namespace parley::cli {

// A positive whole number followed by one unit (s, m, h, d, w). kInvalidArgument otherwise, with
// a sentence showing the accepted forms. At most 10 years, so conversions cannot overflow.
Result<std::chrono::seconds> parse_duration(std::string_view text);

// The disappearing-message timer: a duration, or "off" (0 seconds).
Result<std::chrono::seconds> parse_timer(std::string_view text);

// The shortest exact form: 3600 s → "1h", 90 s → "90s", 0 → "off".
std::string format_duration(std::chrono::seconds duration);

}  // namespace parley::cli
