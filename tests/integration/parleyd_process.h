// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Runs the real parleyd binary as a child process for a test: free loopback ports, a TOML config
// in a temp data directory (proof of work off unless `extra_config` sets pow_difficulty), stderr
// to a log file. Stops only the process it started, by PID.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "parley/util/status.h"

namespace parley::testing {

class ParleydProcess {
 public:
  // `data_dir` persists across start()/stop() so restarts find the same store.
  explicit ParleydProcess(std::string data_dir, std::vector<std::string> extra_config = {});
  ~ParleydProcess();  // SIGKILL if still running
  ParleydProcess(const ParleydProcess&) = delete;
  ParleydProcess& operator=(const ParleydProcess&) = delete;

  // Starts parleyd and waits until /healthz answers 200. Ports are chosen on the first start and
  // reused by restarts.
  Status start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM, then waits; returns the exit code (-1 on timeout or death by a signal).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGKILL and reap: a crash.
  void kill9();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // -1 when not running

  std::uint16_t port() const { return port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;  // everything parleyd wrote to stderr/stdout so far

 private:
  Status start_once(std::chrono::milliseconds timeout);

  std::string data_dir_;
  std::vector<std::string> extra_config_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
  pid_t pid_ = -1;
};

// A loopback port the kernel just handed out and released (0 if none): for a server a test starts
// right after (parleyd, mosquitto, ejabberd).
std::uint16_t free_port();

// The parleyd binary under test (set by CMake).
std::string parleyd_binary();

}  // namespace parley::testing
