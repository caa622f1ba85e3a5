// SPDX-License-Identifier: AGPL-3.0-or-later
#include "relay_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

extern char** environ;

namespace parley::relay::testing {
namespace {

// OpenSSL writes with write(): a relay that closes a refused connection must give EPIPE, not
// kill the test program.
[[maybe_unused]] const bool kSigpipeIgnored = []() noexcept {
  (void)::signal(SIGPIPE, SIG_IGN);
  return true;
}();

int listen_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Waits until `fd` is readable; false on timeout.
bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

// Accepts with a short poll so the thread notices `stop`.
int accept_until(int listener, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    if (wait_readable(listener, 50ms)) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) return fd;
    }
  }
  return -1;
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::uint16_t free_port() {
  std::uint16_t port = 0;
  const int fd = listen_loopback(port);
  if (fd >= 0) ::close(fd);
  return port;
}

std::string relay_binary() {
  return PARLEY_RELAY_PATH;
}

// ---- RelayProcess ----

RelayProcess::RelayProcess(std::string data_dir, std::vector<std::string> args)
    : data_dir_(std::move(data_dir)), args_(std::move(args)) {}

RelayProcess::~RelayProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

Status RelayProcess::start(std::chrono::milliseconds timeout) {
  port_ = free_port();
  admin_port_ = free_port();
  const std::string binary = relay_binary();
  const std::string log_file = data_dir_ + "/relay.log";
  std::vector<std::string> args = {binary,
                                   "--data-dir",
                                   data_dir_,
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port_),
                                   "--admin",
                                   "127.0.0.1:" + std::to_string(admin_port_),
                                   "--threads",
                                   "2",
                                   "--log-level",
                                   "debug",
                                   "--no-qr"};
  args.insert(args.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::error(ErrorCode::kUnavailable, "cannot spawn " + binary);
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::error(ErrorCode::kUnavailable, "parley-relay exited at startup:\n" + log());
    }
    auto health = http_get(admin_port_, "/healthz");
    if (health.ok() && health->rfind("HTTP/1.1 200", 0) == 0) return {};
    std::this_thread::sleep_for(50ms);
  }
  return Status::error(ErrorCode::kTimeout, "parley-relay did not become healthy:\n" + log());
}

int RelayProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string RelayProcess::log() const {
  std::ifstream in(data_dir_ + "/relay.log");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<std::string> RelayProcess::link() const {
  const std::string command = relay_binary() + " link --data-dir '" + data_dir_ +
                              "' --public-host 127.0.0.1 --public-port " + std::to_string(port_) +
                              " --no-qr 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::error(ErrorCode::kUnavailable, "cannot run parley-relay");
  std::string out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  const int rc = ::pclose(pipe);
  if (rc != 0) return Status::error(ErrorCode::kUnavailable, "parley-relay link failed");
  return out.substr(0, out.find('\n'));
}

long long RelayProcess::metric(const std::string& name) const {
  auto text = http_get(admin_port_, "/metrics");
  if (!text.ok()) return -1;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

// ---- exchanges ----

Result<std::string> tcp_exchange(std::uint16_t port, const std::string& request,
                                 std::chrono::milliseconds timeout) {
  const int fd = connect_loopback(port);
  if (fd < 0) return Status::error(ErrorCode::kUnavailable, "cannot connect");
  if (!write_all(fd, request)) {
    ::close(fd);
    return Status::error(ErrorCode::kUnavailable, "cannot write");
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(fd, left)) {
      ::close(fd);
      return Status::error(ErrorCode::kTimeout, "no end of answer in time");
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::string> tls_exchange(std::uint16_t port, const std::string& request,
                                 std::chrono::milliseconds timeout, const std::string& sni) {
  TlsConnection connection;
  PARLEY_RETURN_IF_ERROR(connection.connect(port, timeout));
  (void)sni;
  PARLEY_RETURN_IF_ERROR(connection.write(request));
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::error(ErrorCode::kTimeout, "no end of answer in time");
    auto chunk = connection.read_some(left);
    if (!chunk.ok()) {
      if (chunk.status().code() == ErrorCode::kConnectionClosed) break;
      return chunk.status();
    }
    out += *chunk;
  }
  return out;
}

Result<std::string> http_get(std::uint16_t port, const std::string& target) {
  return tcp_exchange(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2s);
}

// ---- TlsConnection ----

TlsConnection::~TlsConnection() {
  if (ssl_ != nullptr) SSL_free(static_cast<SSL*>(ssl_));
  if (ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
  if (fd_ >= 0) ::close(fd_);
}

Status TlsConnection::connect(std::uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = connect_loopback(port);
  if (fd_ < 0) return Status::error(ErrorCode::kUnavailable, "cannot connect");
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ctx_ = ctx;
  SSL* ssl = SSL_new(ctx);
  ssl_ = ssl;
  SSL_set_fd(ssl, fd_);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (SSL_connect(ssl) != 1) {
    ERR_clear_error();
    return Status::error(ErrorCode::kUnavailable, "TLS handshake failed");
  }
  return {};
}

Status TlsConnection::write(const std::string& bytes) {
  if (bytes.empty()) return {};
  if (SSL_write(static_cast<SSL*>(ssl_), bytes.data(), static_cast<int>(bytes.size())) <= 0) {
    ERR_clear_error();
    return Status::error(ErrorCode::kUnavailable, "TLS write failed");
  }
  return {};
}

Result<std::string> TlsConnection::read_some(std::chrono::milliseconds timeout) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  if (SSL_pending(ssl) == 0 && !wait_readable(fd_, timeout)) {
    return Status::error(ErrorCode::kTimeout, "nothing arrived in time");
  }
  char buffer[16384];
  const int n = SSL_read(ssl, buffer, sizeof buffer);
  if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
  const int error = SSL_get_error(ssl, n);
  ERR_clear_error();
  if (error == SSL_ERROR_WANT_READ) return std::string();  // a TLS 1.3 ticket, no data
  return Status::error(ErrorCode::kConnectionClosed, "closed");
}

// ---- TinySite ----

TinySite::TinySite() {
  listener_ = listen_loopback(port_);
  thread_ = std::thread([this] { run(); });
}

TinySite::~TinySite() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

void TinySite::run() {
  for (;;) {
    const int fd = accept_until(listener_, stop_);
    if (fd < 0) return;
    connections_.fetch_add(1);
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < (1u << 20) &&
           wait_readable(fd, 5s)) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    std::string response;
    if (request.rfind("GET ", 0) == 0) {
      const std::string line = request.substr(0, request.find("\r\n"));
      const std::string body = "<html><body><h1>Tiny site</h1><p>" + line + "</p></body></html>\n";
      response = "HTTP/1.1 200 OK\r\nServer: tiny\r\nContent-Type: text/html\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    } else {
      const std::string body = "bad request\n";
      response = "HTTP/1.1 400 Bad Request\r\nServer: tiny\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    }
    write_all(fd, response);
    ::shutdown(fd, SHUT_WR);
    // Let the peer read everything before the close (no reset from unread input).
    while (wait_readable(fd, 2s)) {
      if (::recv(fd, buffer, sizeof buffer, 0) <= 0) break;
    }
    ::close(fd);
  }
}

// ---- CountingListener ----

CountingListener::CountingListener() {
  listener_ = listen_loopback(port_);
  thread_ = std::thread([this] {
    for (;;) {
      const int fd = accept_until(listener_, stop_);
      if (fd < 0) return;
      connections_.fetch_add(1);
      accepted_.push_back(fd);
    }
  });
}

CountingListener::~CountingListener() {
  stop_ = true;
  thread_.join();
  for (int fd : accepted_) ::close(fd);
  ::close(listener_);
}

// ---- RecordingForwarder ----

RecordingForwarder::RecordingForwarder(std::uint16_t target_port) : target_port_(target_port) {
  listener_ = listen_loopback(port_);
  thread_ = std::thread([this] {
    const int client = accept_until(listener_, stop_);
    if (client < 0) return;
    const int server = connect_loopback(target_port_);
    if (server < 0) {
      ::close(client);
      return;
    }
    char buffer[16384];
    bool open = true;
    while (open && !stop_.load()) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2 && open; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          open = false;
          break;
        }
        const std::string chunk(buffer, static_cast<std::size_t>(n));
        if (i == 0) {
          std::lock_guard lock(mutex_);
          client_bytes_ += chunk;
        }
        open = write_all(i == 0 ? server : client, chunk);
      }
    }
    ::close(client);
    ::close(server);
  });
}

RecordingForwarder::~RecordingForwarder() {
  stop_ = true;
  thread_.join();
  ::close(listener_);
}

std::string RecordingForwarder::client_bytes() const {
  std::lock_guard lock(mutex_);
  return client_bytes_;
}

}  // namespace parley::relay::testing
