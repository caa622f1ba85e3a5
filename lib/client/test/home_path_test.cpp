// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/home_path.h"

#include <gtest/gtest.h>

#include <map>

namespace parley::client {
namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(HomeTest, FlagWins) {
  auto home = resolve_home("/flag", env_of({{"PARLEY_HOME", "/env"}, {"HOME", "/home/a"}}));
  EXPECT_EQ(*home, "/flag");
}

TEST(HomeTest, ThenParleyHome) {
  auto home = resolve_home(
      std::nullopt,
      env_of({{"PARLEY_HOME", "/env"}, {"XDG_DATA_HOME", "/xdg"}, {"HOME", "/home/a"}}));
  EXPECT_EQ(*home, "/env");
}

TEST(HomeTest, ThenXdgDataHome) {
  auto home = resolve_home(std::nullopt, env_of({{"XDG_DATA_HOME", "/xdg"}, {"HOME", "/home/a"}}));
  EXPECT_EQ(*home, "/xdg/parley");
}

TEST(HomeTest, RelativeXdgIsIgnored) {
  auto home = resolve_home(std::nullopt, env_of({{"XDG_DATA_HOME", "xdg"}, {"HOME", "/home/a"}}));
  EXPECT_EQ(*home, "/home/a/.local/share/parley");
}

TEST(HomeTest, EmptyValuesCountAsUnset) {
  auto home = resolve_home(
      std::string(), env_of({{"PARLEY_HOME", ""}, {"XDG_DATA_HOME", ""}, {"HOME", "/home/a"}}));
  EXPECT_EQ(*home, "/home/a/.local/share/parley");
}

TEST(HomeTest, NothingIsAnError) {
  auto home = resolve_home(std::nullopt, env_of({}));
  ASSERT_FALSE(home.ok());
  EXPECT_EQ(home.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::client
