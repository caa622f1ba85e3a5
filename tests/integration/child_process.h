// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A child process for tests that run real programs (the CLI, peers such as mosquitto): argv[0] is a
// path, stdout and stderr go to files, and it is stopped by its own PID, never by name.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace parley::testing {

// A child process (argv[0] a path, or a name looked up on PATH) with stdout and stderr sent to
// files (truncated, or appended to with `append`); stopped by PID.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& out_file,
               const std::string& err_file, bool append = false);
  virtual ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // -1 once it ended
  // Non-blocking: true once the child ended (its exit code in `exit_code`, -1 for a signal).
  bool poll(int& exit_code);
  // Blocks up to `timeout`; the exit code, or -1 after a timeout (the child is then killed).
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, up to `grace` for it to end, then SIGKILL.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3));
  void kill9();

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Reads a whole file ("" when it cannot be read).
std::string read_text(const std::filesystem::path& file);

}  // namespace parley::testing
