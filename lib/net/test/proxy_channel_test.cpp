// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The channel through real proxies from Debian, each started by the test as a child process on a
// free 127.0.0.1 port with a temporary configuration: microsocks (SOCKS5, with and without
// user/password), dante (danted, SOCKS5), tinyproxy (HTTP CONNECT, with and without Basic auth)
// and shadowsocks-libev (ss-local as the SOCKS5 front, ss-server behind it, a password made up
// for the run). Behind them the server side runs in-process (loopback_gateway.h, as for
// websocket_channel_test.cpp): gateway + ServerCore + MemoryStore with a pinned self-signed
// certificate. A proxy whose binary
// is missing is skipped with a message. Also: the path options without a proxy (pre-resolved
// addresses, tls_name) and proxies that fail (closed port, silent, refusing the target).

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loopback_gateway.h"
#include "parley/net/proxy.h"
#include "parley/net/websocket_channel.h"

extern char** environ;

namespace parley::net {
namespace {

using SteadyClock = std::chrono::steady_clock;

using testing::expect_ping_works;
using testing::fingerprint_of;
using testing::LoopbackGateway;
using testing::RawSocket;
using testing::TempDir;
using testing::TempDirAccess;

// A port that was free a moment ago (bound, then closed) for a proxy to listen on.
std::uint16_t free_port() {
  RawSocket bound(/*listen=*/false);
  return bound.port();
}

bool tcp_connects(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// The first of `candidates` that exists, or "".
std::string find_binary(std::initializer_list<const char*> candidates) {
  for (const char* path : candidates) {
    if (::access(path, X_OK) == 0) return path;
  }
  return {};
}

std::string random_hex(std::size_t bytes) {
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    unsigned value = random() & 0xff;
    out += kHex[value >> 4];
    out += kHex[value & 0xf];
  }
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A child process, output to a log file; stopped by its PID (SIGTERM, then SIGKILL).
class Child {
 public:
  Child() = default;
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool start(const std::vector<std::string>& argv, const std::string& log_file) {
    log_file_ = log_file;
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int spawned = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) pid_ = -1;
    return pid_ > 0;
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // Polls a TCP connect to `port` (not a blind sleep) until it is accepted or the child died.
  bool wait_listening(std::uint16_t port) {
    auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    while (SteadyClock::now() < deadline) {
      if (!running()) return false;
      if (tcp_connects(port)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string log() const { return read_file(log_file_); }

 private:
  pid_t pid_ = -1;
  std::string log_file_;
};

class ProxyChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = server_.start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }

  WebSocketChannelOptions options_via(ProxyKind kind, std::uint16_t proxy_port) const {
    WebSocketChannelOptions options;
    options.host = "127.0.0.1";
    options.port = server_.port();
    options.trust.pinned_sha256 = fingerprint_of(server_.cert_file());
    options.connect_timeout = std::chrono::seconds(10);
    options.proxy.kind = kind;
    options.proxy.host = "127.0.0.1";
    options.proxy.port = proxy_port;
    return options;
  }

  // Starts `argv` and waits until it accepts TCP on `port`; false (with the log) otherwise.
  ::testing::AssertionResult start_proxy(Child& child, const std::vector<std::string>& argv,
                                         std::uint16_t port) {
    std::string log_file = dir_.path() + "/" + std::filesystem::path(argv[0]).filename().string() +
                           "-" + std::to_string(port) + ".log";
    if (!child.start(argv, log_file)) {
      return ::testing::AssertionFailure() << "cannot start " << argv[0];
    }
    if (!child.wait_listening(port)) {
      return ::testing::AssertionFailure()
             << argv[0] << " did not listen on " << port << "; its log:\n"
             << child.log();
    }
    return ::testing::AssertionSuccess();
  }

  void connect_and_ping(const WebSocketChannelOptions& options, Child& proxy) {
    auto channel = connect_websocket(options);
    ASSERT_TRUE(channel.ok()) << channel.status().to_string() << "\nproxy log:\n" << proxy.log();
    expect_ping_works(**channel, 42);
  }

  LoopbackGateway server_;
  TempDir dir_{"parley-proxy", TempDirAccess::kEveryone};
};

// ---- SOCKS5 ----

TEST_F(ProxyChannelTest, MicrosocksWithoutAuthentication) {
  std::string binary = find_binary({"/usr/bin/microsocks"});
  if (binary.empty()) GTEST_SKIP() << "microsocks is not installed (apt install microsocks)";
  std::uint16_t port = free_port();
  Child proxy;
  ASSERT_TRUE(start_proxy(proxy, {binary, "-i", "127.0.0.1", "-p", std::to_string(port)}, port));
  connect_and_ping(options_via(ProxyKind::kSocks5, port), proxy);

  // A name as the target: sent as ATYP 3 and resolved by the proxy (remote DNS).
  WebSocketChannelOptions by_name = options_via(ProxyKind::kSocks5, port);
  by_name.host = "localhost";
  connect_and_ping(by_name, proxy);
}

TEST_F(ProxyChannelTest, MicrosocksWithUserAndPassword) {
  std::string binary = find_binary({"/usr/bin/microsocks"});
  if (binary.empty()) GTEST_SKIP() << "microsocks is not installed (apt install microsocks)";
  std::uint16_t port = free_port();
  const std::string password = random_hex(12);
  Child proxy;
  ASSERT_TRUE(start_proxy(
      proxy, {binary, "-i", "127.0.0.1", "-p", std::to_string(port), "-u", "anna", "-P", password},
      port));
  WebSocketChannelOptions options = options_via(ProxyKind::kSocks5, port);
  options.proxy.username = "anna";
  options.proxy.password = password;
  connect_and_ping(options, proxy);

  options.proxy.password = password + "x";
  auto wrong = connect_websocket(options);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kProxyFailed) << wrong.status().to_string();
  EXPECT_NE(wrong.status().message().find("authentication"), std::string::npos)
      << wrong.status().message();
  EXPECT_EQ(wrong.status().message().find(password), std::string::npos);

  options.proxy.username.clear();
  options.proxy.password.clear();
  auto none = connect_websocket(options);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kProxyFailed) << none.status().to_string();
  EXPECT_NE(none.status().message().find("requires authentication"), std::string::npos)
      << none.status().message();
}

TEST_F(ProxyChannelTest, SocksProxyRefusingTheTargetIsProxyFailed) {
  std::string binary = find_binary({"/usr/bin/microsocks"});
  if (binary.empty()) GTEST_SKIP() << "microsocks is not installed (apt install microsocks)";
  std::uint16_t port = free_port();
  Child proxy;
  ASSERT_TRUE(start_proxy(proxy, {binary, "-i", "127.0.0.1", "-p", std::to_string(port)}, port));
  WebSocketChannelOptions options = options_via(ProxyKind::kSocks5, port);
  options.port = free_port();  // nothing listens there
  auto channel = connect_websocket(options);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kProxyFailed) << channel.status().to_string();
  EXPECT_NE(channel.status().message().find("refused the connection"), std::string::npos)
      << channel.status().message();
}

TEST_F(ProxyChannelTest, Dante) {
  std::string binary = find_binary({"/usr/sbin/danted", "/usr/sbin/sockd"});
  if (binary.empty()) GTEST_SKIP() << "dante-server is not installed (apt install dante-server)";
  std::uint16_t port = free_port();
  std::string conf = dir_.path() + "/danted.conf";
  std::string text =
      "logoutput: stderr\n"
      "internal: 127.0.0.1 port = " +
      std::to_string(port) +
      "\n"
      "external: 127.0.0.1\n"
      "clientmethod: none\n"
      "socksmethod: none\n";
  // As root dante wants users to switch to; as anyone else it stays who it is. Settings come
  // before the rules in its syntax.
  if (getuid() == 0) text += "user.privileged: root\nuser.unprivileged: nobody\n";
  text +=
      "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n"
      "socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }\n";
  write_file(conf, text);
  Child proxy;
  ASSERT_TRUE(start_proxy(proxy, {binary, "-f", conf, "-p", dir_.path() + "/danted.pid"}, port));
  connect_and_ping(options_via(ProxyKind::kSocks5, port), proxy);
}

TEST_F(ProxyChannelTest, ShadowsocksLocalFront) {
  std::string server = find_binary({"/usr/bin/ss-server"});
  std::string local = find_binary({"/usr/bin/ss-local"});
  if (server.empty() || local.empty()) {
    GTEST_SKIP() << "shadowsocks-libev is not installed (apt install shadowsocks-libev)";
  }
  const std::string password = random_hex(16);  // made up for this run, never committed
  const std::string method = "chacha20-ietf-poly1305";
  std::uint16_t server_port = free_port();
  Child ss_server;
  ASSERT_TRUE(start_proxy(
      ss_server,
      {server, "-s", "127.0.0.1", "-p", std::to_string(server_port), "-k", password, "-m", method},
      server_port));
  std::uint16_t local_port = free_port();
  Child ss_local;
  ASSERT_TRUE(
      start_proxy(ss_local,
                  {local, "-s", "127.0.0.1", "-p", std::to_string(server_port), "-b", "127.0.0.1",
                   "-l", std::to_string(local_port), "-k", password, "-m", method},
                  local_port));
  auto channel = connect_websocket(options_via(ProxyKind::kSocks5, local_port));
  ASSERT_TRUE(channel.ok()) << channel.status().to_string() << "\nss-local:\n"
                            << ss_local.log() << "\nss-server:\n"
                            << ss_server.log();
  expect_ping_works(**channel, 5);
}

// ---- HTTP CONNECT ----

std::string tinyproxy_conf(std::uint16_t port, std::uint16_t allowed_port,
                           const std::string& basic_auth = "") {
  std::string conf = "Port " + std::to_string(port) +
                     "\n"
                     "Listen 127.0.0.1\n"
                     "Timeout 30\n"
                     "MaxClients 20\n"
                     "LogLevel Info\n"
                     "Allow 127.0.0.1\n"
                     "ConnectPort " +
                     std::to_string(allowed_port) + "\n";
  if (getuid() == 0) conf += "User nobody\nGroup nogroup\n";
  if (!basic_auth.empty()) conf += "BasicAuth " + basic_auth + "\n";
  return conf;
}

TEST_F(ProxyChannelTest, TinyproxyHttpConnect) {
  std::string binary = find_binary({"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"});
  if (binary.empty()) GTEST_SKIP() << "tinyproxy is not installed (apt install tinyproxy)";
  std::uint16_t port = free_port();
  std::string conf = dir_.path() + "/tinyproxy.conf";
  write_file(conf, tinyproxy_conf(port, server_.port()));
  Child proxy;
  ASSERT_TRUE(start_proxy(proxy, {binary, "-d", "-c", conf}, port));
  connect_and_ping(options_via(ProxyKind::kHttpConnect, port), proxy);
}

TEST_F(ProxyChannelTest, TinyproxyWithBasicAuth) {
  std::string binary = find_binary({"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"});
  if (binary.empty()) GTEST_SKIP() << "tinyproxy is not installed (apt install tinyproxy)";
  std::uint16_t port = free_port();
  const std::string password = random_hex(12);
  std::string conf = dir_.path() + "/tinyproxy-auth.conf";
  write_file(conf, tinyproxy_conf(port, server_.port(), "anna " + password));
  Child proxy;
  ASSERT_TRUE(start_proxy(proxy, {binary, "-d", "-c", conf}, port));
  WebSocketChannelOptions options = options_via(ProxyKind::kHttpConnect, port);
  options.proxy.username = "anna";
  options.proxy.password = password;
  connect_and_ping(options, proxy);

  options.proxy.password = "wrong";
  auto wrong = connect_websocket(options);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kProxyFailed) << wrong.status().to_string();
  EXPECT_NE(wrong.status().message().find("authentication"), std::string::npos)
      << wrong.status().message();
}

TEST_F(ProxyChannelTest, TinyproxyRefusingThePortIsProxyFailed) {
  std::string binary = find_binary({"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"});
  if (binary.empty()) GTEST_SKIP() << "tinyproxy is not installed (apt install tinyproxy)";
  std::uint16_t port = free_port();
  std::string conf = dir_.path() + "/tinyproxy-refuse.conf";
  std::uint16_t other = server_.port() == 443 ? 444 : 443;
  write_file(conf, tinyproxy_conf(port, other));
  Child proxy;
  ASSERT_TRUE(start_proxy(proxy, {binary, "-d", "-c", conf}, port));
  auto channel = connect_websocket(options_via(ProxyKind::kHttpConnect, port));
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(channel.status().code(), ErrorCode::kProxyFailed) << channel.status().to_string();
  EXPECT_NE(channel.status().message().find("refused the connection"), std::string::npos)
      << channel.status().message();
}

// ---- failing proxies ----

TEST_F(ProxyChannelTest, ClosedProxyPortFailsQuickly) {
  for (ProxyKind kind : {ProxyKind::kSocks5, ProxyKind::kHttpConnect}) {
    WebSocketChannelOptions options = options_via(kind, free_port());
    options.connect_timeout = std::chrono::seconds(5);
    auto started = SteadyClock::now();
    auto channel = connect_websocket(options);
    auto elapsed = SteadyClock::now() - started;
    ASSERT_FALSE(channel.ok());
    EXPECT_TRUE(channel.status().code() == ErrorCode::kProxyFailed ||
                channel.status().code() == ErrorCode::kUnavailable)
        << channel.status().to_string();
    EXPECT_NE(channel.status().message().find("proxy"), std::string::npos);
    EXPECT_LT(elapsed, options.connect_timeout);
  }
}

TEST_F(ProxyChannelTest, SilentProxyTimesOutWithinTheConnectTimeout) {
  RawSocket silent(/*listen=*/true);
  ASSERT_NE(silent.port(), 0);
  for (ProxyKind kind : {ProxyKind::kSocks5, ProxyKind::kHttpConnect}) {
    WebSocketChannelOptions options = options_via(kind, silent.port());
    options.connect_timeout = std::chrono::milliseconds(400);
    auto channel = connect_websocket(options);
    ASSERT_FALSE(channel.ok());
    EXPECT_EQ(channel.status().code(), ErrorCode::kTimeout) << channel.status().to_string();
  }
}

// ---- path options without a proxy ----

TEST_F(ProxyChannelTest, PreResolvedAddressesReplaceTheResolver) {
  WebSocketChannelOptions options = options_via(ProxyKind::kNone, 0);
  options.proxy = {};
  options.host = "parley-server.invalid";  // never resolved: the addresses are used
  options.addresses = {"127.0.0.1"};
  auto channel = connect_websocket(options);
  ASSERT_TRUE(channel.ok()) << channel.status().to_string();
  expect_ping_works(**channel, 11);

  options.addresses = {"not-an-ip"};
  auto invalid = connect_websocket(options);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ProxyChannelTest, TlsNameIsVerifiedInsteadOfTheHost) {
  WebSocketChannelOptions options = options_via(ProxyKind::kNone, 0);
  options.proxy = {};
  options.trust = {};
  options.trust.ca_file = server_.cert_file();  // its SANs: localhost, 127.0.0.1, ::1
  options.host = "127.0.0.1";
  options.tls_name = "localhost";
  auto channel = connect_websocket(options);
  ASSERT_TRUE(channel.ok()) << channel.status().to_string();
  expect_ping_works(**channel, 12);

  options.tls_name = "chat.example.org";  // not in the certificate
  auto untrusted = connect_websocket(options);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), ErrorCode::kCertificateUntrusted)
      << untrusted.status().to_string();
}

TEST_F(ProxyChannelTest, BytesReceivedCountsTheDirectPathToo) {
  WebSocketChannelOptions options = options_via(ProxyKind::kNone, 0);
  options.proxy = {};
  auto channel = connect_websocket(options);
  ASSERT_TRUE(channel.ok()) << channel.status().to_string();
  std::uint64_t after_connect = (*channel)->bytes_received();
  EXPECT_GT(after_connect, 500u);  // at least the server's TLS handshake and upgrade answer
  expect_ping_works(**channel, 13);
  EXPECT_GT((*channel)->bytes_received(), after_connect);
}

}  // namespace
}  // namespace parley::net
