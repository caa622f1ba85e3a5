// SPDX-License-Identifier: AGPL-3.0-or-later
#include "e2e_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

extern char** environ;

namespace parley::e2e {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

Server::Server() : Server(std::vector<std::string>{}) {}

Server::Server(std::vector<std::string> extra_config)
    : data_("parleyd-e2e"), process_(data_.str(), std::move(extra_config)) {
  started_ = data_.path().empty() ? Status::error(ErrorCode::kInternal, "mkdtemp failed")
                                  : process_.start();
}

std::string Server::cert_file() const {
  return (data_.path() / "tls" / "server-cert.pem").string();
}

client::ServerSettings Server::settings() const {
  client::ServerSettings settings;
  settings.server = "127.0.0.1:" + std::to_string(process_.port());
  settings.trust.ca_file = cert_file();
  return settings;
}

Device::Device(const Server& server) : server_(server), home_("parley-e2e-home") {
  Status opened = reopen();
  if (!opened.ok()) ADD_FAILURE_AT(__FILE__, __LINE__) << opened.to_string();
}

Status Device::reopen() {
  client_.reset();
  client::ClientOptions options;
  options.home = home_.path();
  options.prekey_batch = 20;  // keeps sign-up quick; top-ups are exercised as contacts grow
  options.request_timeout = std::chrono::seconds(15);
  PARLEY_ASSIGN_OR_RETURN(client_, client::Client::open(std::move(options)));
  client_->set_event_handler([this](const client::Event& event) { events_.push_back(event); });
  return {};
}

Status Device::sign_up(const std::string& username) {
  return client_->create_account(server_.settings(), username, nullptr);
}

Status Device::sign_up(const std::string& username, const client::ServerSettings& settings) {
  return client_->create_account(settings, username, nullptr);
}

Status Device::join(const std::string& code) {
  return join(code, server_.settings());
}

Status Device::join(const std::string& code, const client::ServerSettings& settings) {
  return client_->join_device(settings, code, std::chrono::seconds(30));
}

std::vector<std::string> Device::texts() const {
  std::vector<std::string> out;
  for (const auto& event : events_) {
    if (event.kind == client::Event::Kind::kMessage && !event.outgoing) out.push_back(event.body);
  }
  return out;
}

std::size_t Device::count(client::Event::Kind kind) const {
  return static_cast<std::size_t>(std::count_if(
      events_.begin(), events_.end(), [&](const client::Event& e) { return e.kind == kind; }));
}

namespace {

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  CommandResult result;
  TempDir capture("parley-e2e-cmd");
  const std::string out_file = (capture.path() / "stdout").string();
  const std::string err_file = (capture.path() / "stderr").string();
  std::vector<std::string> args = argv;
  std::vector<char*> raw;
  for (auto& arg : args) raw.push_back(arg.data());
  raw.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.err = "cannot spawn " + args[0];
    return result;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  result.exit_code = exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_all(out_file);
  result.err = read_all(err_file);
  return result;
}

}  // namespace parley::e2e
