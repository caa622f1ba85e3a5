// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaos_support.h"

#include <cstdlib>
#include <random>

namespace parley::chaos {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();  // no temp dir: nothing can run
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int env_int(const char* name, int fallback) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  long parsed = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || parsed < 0 || parsed > 1'000'000) return fallback;
  return static_cast<int>(parsed);
}

std::uint32_t chaos_seed() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
  const char* value = std::getenv("PARLEY_CHAOS_SEED");
  if (value != nullptr && *value != '\0') {
    return static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
  }
  return std::random_device{}();
}

Result<std::unique_ptr<testing::ProtoClient>> sign_in(std::uint16_t port,
                                                      const testing::TestAccount& account) {
  auto client = std::make_unique<testing::ProtoClient>(port);
  PARLEY_RETURN_IF_ERROR(client->connect());
  PARLEY_RETURN_IF_ERROR(client->authenticate(account).status());
  return client;
}

}  // namespace parley::chaos
