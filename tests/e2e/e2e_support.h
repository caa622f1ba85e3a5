// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Helpers for the end-to-end tests: private temp directories, one client device on a real
// parleyd, and running the `parley` CLI as a child process.

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "parley/client/client.h"
#include "parleyd_process.h"

// In a TEST body: fail the test with the Status's words unless it is ok.
#define PARLEY_E2E_ASSERT_OK(expr)                                     \
  do {                                                                 \
    const ::parley::Status& status_ = (expr);                          \
    ASSERT_TRUE(status_.ok()) << #expr << ": " << status_.to_string(); \
  } while (false)
#define ASSERT_OK(expr) PARLEY_E2E_ASSERT_OK(expr)

// In a TEST body: start parleyd as `server`, or fail the test.
#define START_SERVER(server)    \
  ::parley::e2e::Server server; \
  ASSERT_TRUE(server.ok()) << server.start_status().to_string()

namespace parley::e2e {

// A private temporary directory, removed with everything in it when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "parley-e2e");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// parleyd in a temp data directory, started by the constructor (check ok()).
class Server {
 public:
  Server();
  // With extra TOML lines (e.g. cluster mode's `postgres = "…"`).
  explicit Server(std::vector<std::string> extra_config);
  bool ok() const { return started_.ok(); }
  const Status& start_status() const { return started_; }
  testing::ParleydProcess& process() { return process_; }
  // Where parleyd keeps the certificate it generated on first start: clients pin it as their CA.
  std::string cert_file() const;
  client::ServerSettings settings() const;

 private:
  TempDir data_;
  testing::ParleydProcess process_;
  Status started_;
};

// One device: a home and a Client using the default connector (TLS WebSocket), recording every
// event it reports.
class Device {
 public:
  explicit Device(const Server& server);
  // Destroys the Client (as when the app quits) and opens a new one on the same home.
  Status reopen();
  void close() { client_.reset(); }
  Status sign_up(const std::string& username);  // create_account on the server, no proof of work
  // The same with other routes to the server (relays, endpoints, a proxy).
  Status sign_up(const std::string& username, const client::ServerSettings& settings);
  Status join(const std::string& code);  // join_device with a code from the primary
  // The same through other routes (another node of a cluster).
  Status join(const std::string& code, const client::ServerSettings& settings);
  bool is_open() const { return client_ != nullptr; }

  client::Client& operator*() { return *client_; }
  client::Client* operator->() { return client_.get(); }
  std::vector<client::Event>& events() { return events_; }
  // Incoming texts (from other accounts) in the order they were reported.
  std::vector<std::string> texts() const;
  std::size_t count(client::Event::Kind kind) const;
  const std::filesystem::path& home() const { return home_.path(); }

 private:
  const Server& server_;
  TempDir home_;
  std::unique_ptr<client::Client> client_;
  std::vector<client::Event> events_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `argv` (argv[0] a path) with stdout and stderr captured, waiting at most `timeout`.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout);

}  // namespace parley::e2e
