// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A real PostgreSQL 15 server for tests: initdb into a fresh temp dir, started with pg_ctl on a
// free 127.0.0.1 port (its Unix socket in the same dir), stopped by PID and removed with
// everything in it. PostgreSQL refuses to run as root, so when the test runs as root every
// server command runs as the `postgres` user (runuser) and the dir is handed to that user.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace parley::store::testing {

class PostgresProcess {
 public:
  // initdb + start. ok() tells whether it worked (failure_ says why, with the log's tail).
  PostgresProcess();
  // Stops the server (fast shutdown, then SIGKILL) and removes the directory.
  ~PostgresProcess();
  PostgresProcess(const PostgresProcess&) = delete;
  PostgresProcess& operator=(const PostgresProcess&) = delete;

  bool ok() const { return failure_.empty(); }
  const std::string& failure() const { return failure_; }
  std::uint16_t port() const { return port_; }

  // libpq connection string for `database` (superuser postgres, trust auth on 127.0.0.1).
  std::string conninfo(const std::string& database) const;
  // CREATE DATABASE; false (and failure() set) if it did not work.
  bool create_database(const std::string& name);

  // Starts the (stopped or killed) server again on the same port and data.
  bool start();
  // `pg_ctl stop -m fast`; SIGKILL of the postmaster if that fails.
  void stop();
  // SIGKILL of the postmaster and its backends: a crash. start() recovers from the WAL.
  void kill9();

 private:
  bool run(const std::string& program, const std::string& args, const std::string& log);
  pid_t postmaster_pid() const;
  void wait_gone(pid_t pid) const;

  std::filesystem::path dir_;
  std::string bin_dir_ = "/usr/lib/postgresql/15/bin";
  std::uint16_t port_ = 0;
  bool running_ = false;
  std::string failure_;
};

// Up to kSharedServers servers per test program, each started on first use and stopped at exit;
// each test opens its own fresh database on them (fresh_database_conninfo()). Server 1 exists
// for the sharding tests, which need two.
inline constexpr int kSharedServers = 2;
PostgresProcess& shared_postgres(int which = 0);
std::string fresh_database_conninfo(int which = 0);

}  // namespace parley::store::testing
