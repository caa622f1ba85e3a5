// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parleyd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_client.h"

extern char** environ;

namespace parley::testing {

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::string parleyd_binary() {
  return PARLEYD_PATH;
}

ParleydProcess::ParleydProcess(std::string data_dir, std::vector<std::string> extra_config)
    : data_dir_(std::move(data_dir)), extra_config_(std::move(extra_config)) {}

ParleydProcess::~ParleydProcess() {
  if (pid_ > 0) kill9();
}

Status ParleydProcess::start(std::chrono::milliseconds timeout) {
  if (pid_ > 0) return Status::error(ErrorCode::kFailedPrecondition, "already running");
  if (port_ != 0) return start_once(timeout);
  // A free port can be taken by someone else before parleyd binds it: then try other ports.
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    admin_port_ = free_port();
    status = start_once(timeout);
    if (status.ok() || status.message().find("cannot listen") == std::string::npos) break;
  }
  return status;
}

Status ParleydProcess::start_once(std::chrono::milliseconds timeout) {
  const std::string config = data_dir_ + "/parleyd.toml";
  // A test may set its own proof-of-work difficulty (TOML refuses a key given twice).
  bool own_pow = false;
  for (const auto& line : extra_config_) own_pow = own_pow || line.rfind("pow_difficulty", 0) == 0;
  {
    std::ofstream out(config);
    out << "# written by the integration tests\n"
        << "data_dir = \"" << data_dir_ << "\"\n"
        << "listen = \"127.0.0.1:" << port_ << "\"\n"
        << "admin = \"127.0.0.1:" << admin_port_ << "\"\n"
        << (own_pow ? "" : "pow_difficulty = 0\n") << "threads = 2\n"
        << "workers = 2\n"
        << "shutdown_grace_ms = 3000\n"
        << "log_level = \"debug\"\n";
    for (const auto& line : extra_config_) out << line << "\n";
  }

  const std::string binary = parleyd_binary();
  const std::string log_file = data_dir_ + "/parleyd.log";
  std::vector<std::string> args = {binary, "serve", "--config", config};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::error(ErrorCode::kUnavailable, "cannot spawn " + binary);
  pid_ = pid;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::error(ErrorCode::kUnavailable, "parleyd exited during startup:\n" + log());
    }
    auto health = http_get("127.0.0.1", admin_port_, "/healthz", std::chrono::milliseconds(500));
    if (health.ok() && health->status == 200) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill9();
  return Status::error(ErrorCode::kTimeout, "parleyd did not become healthy:\n" + log());
}

int ParleydProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
  return -1;
}

void ParleydProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ParleydProcess::log() const {
  std::ifstream in(data_dir_ + "/parleyd.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace parley::testing
