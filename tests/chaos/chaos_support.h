// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Helpers for the chaos tests: private temp directories, knobs from the environment (so a longer
// run needs no rebuild), a protocol client that signs in again after every failure, and child
// processes killed by PID.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "parley/util/status.h"
#include "proto_client.h"

namespace parley::chaos {

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

// A child process (argv[0] a path) with stdout and stderr sent to files; killed by PID.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& out_file,
               const std::string& err_file);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool started() const { return pid_ > 0; }
  // Non-blocking: true once the child ended (its exit code in `exit_code`, -1 for a signal).
  bool poll(int& exit_code);
  // Blocks up to `timeout`; the exit code, or -1 after a timeout (the child is then killed).
  int wait(std::chrono::milliseconds timeout);
  void kill9();

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Reads a whole file ("" when it cannot be read).
std::string read_text(const std::filesystem::path& file);

}  // namespace parley::chaos
