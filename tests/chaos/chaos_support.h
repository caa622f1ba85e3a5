// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Helpers for the chaos tests: private temp directories, knobs from the environment (so a longer
// run needs no rebuild), a protocol client that signs in again after every failure, and child
// processes killed by PID (testing::ChildProcess, shared with the other suites).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "parley/util/status.h"
#include "proto_client.h"

namespace parley::chaos {

using testing::ChildProcess;
using testing::read_text;

// A private temporary directory, removed with everything in it when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "parley-chaos");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// An integer from the environment, or `fallback` when unset or unreadable.
int env_int(const char* name, int fallback);
// PARLEY_CHAOS_SEED, else a fresh random seed; tests print it so a failure can be replayed.
std::uint32_t chaos_seed();

// A connected, signed-in ProtoClient for `account`, or the reason it could not get one.
Result<std::unique_ptr<testing::ProtoClient>> sign_in(std::uint16_t port,
                                                      const testing::TestAccount& account);

}  // namespace parley::chaos
