// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/home_path.h"

#include <cstdlib>

namespace parley::client {

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): no Parley app modifies its environment.
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<std::filesystem::path> resolve_home(const std::optional<std::string>& flag,
                                           const EnvLookup& env) {
  if (flag && !flag->empty()) return std::filesystem::path(*flag);
  auto set = [&](const char* name) -> std::optional<std::string> {
    auto value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  };
  if (auto home = set("PARLEY_HOME")) return std::filesystem::path(*home);
  if (auto xdg = set("XDG_DATA_HOME"); xdg && std::filesystem::path(*xdg).is_absolute()) {
    return std::filesystem::path(*xdg) / "parley";
  }
  if (auto user_home = set("HOME")) {
    return std::filesystem::path(*user_home) / ".local" / "share" / "parley";
  }
  return Status::error(ErrorCode::kInvalidArgument,
                       "no home directory: pass --home DIR or set PARLEY_HOME");
}

}  // namespace parley::client
