// SPDX-License-Identifier: AGPL-3.0-or-later
#include "duration.h"

#include <charconv>
#include <cstdint>

namespace parley::cli {

namespace {

constexpr std::int64_t kMaxSeconds = 10LL * 365 * 24 * 3600;

struct Unit {
  char suffix;
  std::int64_t seconds;
};
constexpr Unit kUnits[] = {
    {'w', std::int64_t{7} * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

Status bad(std::string_view text) {
  return Status::error(ErrorCode::kInvalidArgument,
                       "'" + std::string(text) +
                           "' is not a duration: use a number and a unit, like 30s, 5m, 1h, "
                           "1d or 2w");
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) return bad(text);
  char suffix = text.back();
  std::string_view digits = text.substr(0, text.size() - 1);
  const Unit* unit = nullptr;
  for (const Unit& candidate : kUnits) {
    if (candidate.suffix == suffix) unit = &candidate;
  }
  if (unit == nullptr) return bad(text);
  for (char c : digits) {
    if (c < '0' || c > '9') return bad(text);  // no sign, spaces or fractions
  }
  std::int64_t count = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (error == std::errc::result_out_of_range || (error == std::errc() && count > kMaxSeconds)) {
    return Status::error(ErrorCode::kOutOfRange,
                         "'" + std::string(text) + "' is longer than 10 years");
  }
  if (error != std::errc() || end != digits.data() + digits.size()) return bad(text);
  if (count == 0) {
    return Status::error(ErrorCode::kOutOfRange,
                         "'" + std::string(text) + "' is zero; a duration must be positive");
  }
  if (count > kMaxSeconds / unit->seconds) {
    return Status::error(ErrorCode::kOutOfRange,
                         "'" + std::string(text) + "' is longer than 10 years");
  }
  return std::chrono::seconds(count * unit->seconds);
}

Result<std::chrono::seconds> parse_timer(std::string_view text) {
  if (text == "off") return std::chrono::seconds(0);
  return parse_duration(text);
}

std::string format_duration(std::chrono::seconds duration) {
  std::int64_t seconds = duration.count();
  if (seconds <= 0) return "off";
  for (const Unit& unit : kUnits) {
    if (seconds % unit.seconds == 0) return std::to_string(seconds / unit.seconds) + unit.suffix;
  }
  return std::to_string(seconds) + "s";  // unreachable: every count divides by 1
}

}  // namespace parley::cli
