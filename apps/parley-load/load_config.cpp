// SPDX-License-Identifier: AGPL-3.0-or-later
#include "load_config.h"

#include <charconv>

namespace parley::load {

const char* target_name(Target target) {
  switch (target) {
    case Target::kParley:
      return "parley";
    case Target::kMqtt:
      return "mqtt";
    case Target::kXmpp:
      return "xmpp";
  }
  return "?";
}

const char* scenario_name(Scenario scenario) {
  switch (scenario) {
    case Scenario::kIdle:
      return "idle";
    case Scenario::kRelay:
      return "relay";
    case Scenario::kOffline:
      return "offline";
    case Scenario::kGroup:
      return "group";
  }
  return "?";
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, text.data() + text.size() - end);
  constexpr std::uint64_t kMaxMs = 7ull * 24 * 3600 * 1000;  // a week: longer is a typo
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "ms") factor = 1;
  if (unit == "s") factor = 1000;
  if (unit == "m" || unit == "min") factor = 60'000;
  if (ec != std::errc() || end == text.data() || factor == 0 || value > kMaxMs / factor) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "a duration is a number with ms, s or m (e.g. 1500ms, 10s), at most a week");
  }
  return std::chrono::milliseconds(value * factor);
}

}  // namespace parley::load
