// SPDX-License-Identifier: AGPL-3.0-or-later
#include "postgres_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <sstream>
#include <thread>
#include <vector>

namespace parley::store::testing {
namespace {

// A port the kernel just handed out on 127.0.0.1, free once we close it.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::string tail_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

// A process counts as gone when it no longer exists or is a zombie nobody reaped yet (in a
// container, PID 1 may never reap the daemonized postmaster).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// The direct children of `parent` (the postmaster's backends and helpers).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return children;
}

}  // namespace

PostgresProcess::PostgresProcess() {
  if (!make_dir()) return;
  // --no-sync: only initdb's own files skip fsync; the running server syncs its WAL as usual.
  if (!run("initdb",
           "-D " + (dir_ / "data").string() +
               " -U postgres -A trust -E UTF8 --locale=C --no-sync --no-instructions",
           "initdb.log")) {
    return;
  }
  port_ = free_port();
  start();
}

PostgresProcess::PostgresProcess(EmptyDir /*unused*/) {
  make_dir();
}

bool PostgresProcess::make_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "parley-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    failure_ = "mkdtemp failed";
    return false;
  }
  dir_ = pattern;
  if (::geteuid() == 0) {
    // The server runs as postgres and must own its directory (it keeps its socket there too).
    // NOLINTNEXTLINE(concurrency-mt-unsafe): servers are created one at a time (shared_postgres)
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr || ::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0) {
      failure_ = "cannot hand the temp dir to the postgres user";
      return false;
    }
  }
  return true;
}

PostgresProcess::~PostgresProcess() {
  if (running_) stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool PostgresProcess::run(const std::string& program, const std::string& args,
                          const std::string& log) {
  const std::string as_postgres = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string command = as_postgres + bin_dir_ + "/" + program + " " + args + " >> " +
                              (dir_ / log).string() + " 2>&1";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): one server command at a time, from the test's thread
  if (std::system(command.c_str()) != 0) {
    failure_ = program + " failed: " + tail_of(dir_ / log);
    return false;
  }
  return true;
}

std::string PostgresProcess::conninfo(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + database;
}

bool PostgresProcess::create_database(const std::string& name) {
  try {
    pqxx::connection connection(conninfo("postgres"));
    pqxx::nontransaction work(connection);
    work.exec("CREATE DATABASE " + connection.quote_name(name));
    return true;
  } catch (const std::exception& e) {
    failure_ = std::string("CREATE DATABASE failed: ") + e.what();
    return false;
  }
}

bool PostgresProcess::start() {
  failure_.clear();
  const std::string options = "-h 127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string();
  running_ = run("pg_ctl",
                 "-D " + (dir_ / "data").string() + " -l " + (dir_ / "server.log").string() +
                     " -w -t 60 -o '" + options + "' start",
                 "pg_ctl.log");
  if (!running_) failure_ += "\nserver.log: " + tail_of(dir_ / "server.log");
  return running_;
}

void PostgresProcess::stop() {
  const pid_t pid = postmaster_pid();
  if (!run("pg_ctl", "-D " + (dir_ / "data").string() + " -m fast -w -t 30 stop", "pg_ctl.log")) {
    if (pid > 0) ::kill(pid, SIGKILL);
    if (pid > 0) wait_gone(pid);
  }
  running_ = false;
}

void PostgresProcess::kill9() {
  const pid_t pid = postmaster_pid();
  if (pid <= 0) return;
  const std::vector<pid_t> backends = children_of(pid);
  ::kill(pid, SIGKILL);
  for (pid_t backend : backends) ::kill(backend, SIGKILL);
  wait_gone(pid);
  for (pid_t backend : backends) wait_gone(backend);
  // Every server process is dead, so the lock files are stale; a zombie postmaster nobody reaps
  // would otherwise make the next start think the server still runs.
  const std::string socket = ".s.PGSQL." + std::to_string(port_);
  std::error_code ignored;
  std::filesystem::remove(dir_ / "data" / "postmaster.pid", ignored);
  std::filesystem::remove(dir_ / (socket + ".lock"), ignored);
  std::filesystem::remove(dir_ / socket, ignored);
  running_ = false;
}

std::unique_ptr<PostgresProcess> PostgresProcess::start_standby_of(
    const PostgresProcess& primary, const std::string& application_name) {
  std::unique_ptr<PostgresProcess> standby(new PostgresProcess(EmptyDir{}));
  if (!standby->ok()) return standby;
  if (!primary.running_) {
    standby->failure_ = "the primary is not running";
    return standby;
  }
  // -R writes standby.signal and primary_conninfo (this connection string, application_name
  // included) into the copy's postgresql.auto.conf; -X stream brings the WAL written during the
  // copy; -c fast checkpoints at once instead of spreading it. --no-sync as for initdb: tests kill
  // processes, not the machine, and the standby's own WAL is synced as usual once it runs.
  const std::string source = "host=127.0.0.1 port=" + std::to_string(primary.port_) +
                             " user=postgres application_name=" + application_name;
  if (!standby->run("pg_basebackup",
                    "-D " + (standby->dir_ / "data").string() + " -d '" + source +
                        "' -X stream -R -c fast --no-sync",
                    "pg_basebackup.log")) {
    return standby;
  }
  standby->port_ = free_port();
  standby->start();
  return standby;
}

bool PostgresProcess::set_synchronous_standby_names(const std::string& names) {
  try {
    pqxx::connection connection(conninfo("postgres"));
    pqxx::nontransaction work(connection);
    // ALTER SYSTEM cannot run inside a transaction block: hence the nontransaction.
    work.exec("ALTER SYSTEM SET synchronous_standby_names = " + connection.quote(names));
    work.exec("SELECT pg_reload_conf()");
    return true;
  } catch (const std::exception& e) {
    failure_ = std::string("setting synchronous_standby_names failed: ") + e.what();
    return false;
  }
}

bool PostgresProcess::wait_for_sync_standby(const std::string& application_name) {
  // pg_stat_replication says 'sync' once the reloaded setting names a standby that streams: the
  // same evidence PostgreSQL's own synchronous replication tests wait for.
  const std::string sql =
      "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming' AND application_name "
      "= '" +
      application_name + "'";
  if (poll_until("postgres", sql, "sync")) return true;
  failure_ = "the standby " + application_name + " did not become synchronous: " + failure_;
  return false;
}

bool PostgresProcess::promote() {
  if (!run("pg_ctl", "-D " + (dir_ / "data").string() + " -w -t 60 promote", "pg_ctl.log")) {
    return false;
  }
  if (poll_until("postgres", "SELECT pg_is_in_recovery()::text", "false")) return true;
  failure_ = "the standby stayed in recovery after pg_ctl promote: " + failure_;
  return false;
}

std::optional<std::string> PostgresProcess::query_value(const std::string& database,
                                                        const std::string& sql) {
  try {
    pqxx::connection connection(conninfo(database) + " connect_timeout=5");
    pqxx::nontransaction work(connection);
    const pqxx::result result = work.exec(sql);
    if (result.empty() || result.columns() == 0 || result[0][0].is_null()) return std::nullopt;
    return result[0][0].as<std::string>();
  } catch (const std::exception& e) {
    failure_ = std::string("query failed: ") + e.what();
    return std::nullopt;
  }
}

bool PostgresProcess::poll_until(const std::string& database, const std::string& sql,
                                 const std::string& expected) {
  // A bound for a broken setup, not a timing assertion: it normally takes milliseconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string failure_before = failure_;
  while (std::chrono::steady_clock::now() < deadline) {
    if (query_value(database, sql) == expected) {
      failure_ = failure_before;  // a failed attempt on the way is no failure of the server
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

pid_t PostgresProcess::postmaster_pid() const {
  std::ifstream file(dir_ / "data" / "postmaster.pid");
  long pid = 0;
  file >> pid;
  return static_cast<pid_t>(pid);
}

void PostgresProcess::wait_gone(pid_t pid) const {
  for (int i = 0; i < 1000 && alive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

PostgresProcess& shared_postgres(int which) {
  static std::unique_ptr<PostgresProcess> servers[kSharedServers];
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  auto& server = servers[which];
  if (!server) server = std::make_unique<PostgresProcess>();
  return *server;
}

std::string fresh_database_conninfo(int which) {
  static std::atomic<int> next{0};
  PostgresProcess& server = shared_postgres(which);
  if (!server.ok()) return {};
  const std::string name = "parley_test_" + std::to_string(next++);
  return server.create_database(name) ? server.conninfo(name) : std::string();
}

}  // namespace parley::store::testing
