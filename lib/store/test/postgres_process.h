// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// A real PostgreSQL 15 server for tests: initdb into a fresh temp dir, started with pg_ctl on a
// free 127.0.0.1 port (its Unix socket in the same dir), stopped by PID and removed with
// everything in it. PostgreSQL refuses to run as root, so when the test runs as root every
// server command runs as the `postgres` user (runuser) and the dir is handed to that user.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
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

  // Streaming replication. A standby is a copy of a running primary (pg_basebackup -R over a
  // replication connection from 127.0.0.1, which initdb's trust pg_hba allows; PostgreSQL 15's
  // defaults wal_level = replica and max_wal_senders = 10 need no change) on its own free port,
  // connecting as `application_name`, the name synchronous_standby_names refers to. Running when
  // ok() (wait_for_sync_standby() on the primary tells when it streams); stop(), start() and
  // kill9() work on it as on a primary, and it is removed with everything in it likewise.
  static std::unique_ptr<PostgresProcess> start_standby_of(const PostgresProcess& primary,
                                                           const std::string& application_name);
  // On a primary: ALTER SYSTEM SET synchronous_standby_names + pg_reload_conf(). Empty = none.
  // Set it after the standbys were copied, so that a promoted standby does not inherit it.
  bool set_synchronous_standby_names(const std::string& names);
  // On a primary: waits (up to 30 s) until `application_name` streams to it as a synchronous
  // standby (pg_stat_replication.sync_state = 'sync').
  bool wait_for_sync_standby(const std::string& application_name);
  // On a standby: pg_ctl promote, then waits until pg_is_in_recovery() is false.
  bool promote();
  // Opens a connection to `database` and runs `sql`; the first column of the first row, or
  // nullopt (failure() says why) if that failed or there was no row.
  std::optional<std::string> query_value(const std::string& database, const std::string& sql);

 private:
  // For start_standby_of(): only the (owned) temp dir, no data yet.
  struct EmptyDir {};
  explicit PostgresProcess(EmptyDir);
  bool make_dir();
  // Runs `sql` on `database` until its first value is `expected` (true), or 30 s passed (false).
  bool poll_until(const std::string& database, const std::string& sql, const std::string& expected);
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
