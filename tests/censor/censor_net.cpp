// SPDX-License-Identifier: AGPL-3.0-or-later
#include "censor_net.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <regex>
#include <thread>

extern char** environ;

namespace parley::censor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string join(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

// Unique per process and per topology: the kernel object names of one test never meet another's.
std::string next_prefix() {
  static std::atomic<int> counter{0};
  return "pc" + std::to_string(::getpid()) + "n" + std::to_string(counter++);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

int run_command(const std::vector<std::string>& argv, std::string* output,
                std::chrono::milliseconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (auto& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    if (output != nullptr) *output = "cannot start " + args[0];
    return -1;
  }
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fd{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;  // EOF: the child (and anything it left behind) closed the pipe
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (output != nullptr) *output = text;
  if (timed_out) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string missing_kernel_feature() {
  static const std::string cached = [] {
    if (::geteuid() != 0) return std::string("not root (network namespaces need CAP_SYS_ADMIN)");
    for (const char* tool : {"ip", "nft", "iptables", "tc", "sysctl"}) {
      if (run_command({"sh", "-c", std::string("command -v ") + tool}) != 0) {
        return std::string("the tool `") + tool + "` is not installed";
      }
    }
    const std::string ns = next_prefix() + "-probe";
    std::string why;
    auto check = [&](const std::vector<std::string>& argv, const std::string& feature) {
      if (!why.empty()) return;
      std::string out;
      if (run_command(argv, &out) != 0) why = feature + " (" + join(argv) + ": " + out + ")";
    };
    check({"ip", "netns", "add", ns}, "no network namespaces");
    if (!why.empty()) return why;
    check({"ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1"}, "no veth");
    check({"ip", "-n", ns, "link", "set", "p0", "up"}, "no veth");
    check({"ip", "netns", "exec", ns, "sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"},
          "no conntrack accounting");
    const std::string probe_rules =
        "add table inet probe; add chain inet probe f { type filter hook forward priority 0; "
        "policy accept; }; add rule inet probe f ct reply bytes > 16000 drop";
    check({"ip", "netns", "exec", ns, "nft", probe_rules},
          "no nftables with conntrack byte counters");
    check(
        {"ip", "netns", "exec", ns, "iptables", "-A", "FORWARD", "-p", "tcp", "-m", "string",
         "--string", "probe.example", "--algo", "bm", "-j", "REJECT", "--reject-with", "tcp-reset"},
        "no iptables string match / REJECT");
    check({"ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "p0", "root", "tbf", "rate",
           "112kbit", "burst", "5000", "latency", "1s"},
          "no tbf qdisc");
    run_command({"ip", "netns", "del", ns});
    return why;
  }();
  return cached;
}

namespace {

std::vector<std::string> in_netns(const std::string& netns, const std::vector<std::string>& argv) {
  std::vector<std::string> args = {"ip", "netns", "exec", netns};
  args.insert(args.end(), argv.begin(), argv.end());
  return args;
}

}  // namespace

NsProcess::NsProcess(const std::string& netns, const std::vector<std::string>& argv,
                     const std::string& out_file, const std::string& err_file)
    : ChildProcess(in_netns(netns, argv), out_file, err_file, /*append=*/true) {}

NsProcess::~NsProcess() {
  stop(1s);
}

Status run_in_netns(const std::string& netns, const std::function<void()>& work) {
  Status result;
  std::thread thread([&] {
    const std::string path = "/var/run/netns/" + netns;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = Status::error(ErrorCode::kUnavailable, "cannot open the namespace " + path);
      return;
    }
    const int joined = ::setns(fd, CLONE_NEWNET);
    ::close(fd);
    if (joined != 0) {
      result = Status::error(ErrorCode::kUnavailable, "setns failed for " + path);
      return;
    }
    work();
  });
  thread.join();
  return result;
}

Topology::Topology() {
  const std::string prefix = next_prefix();
  client_ = prefix + "-client";
  router_ = prefix + "-router";
  abroad_ = prefix + "-abroad";
  domestic_ = prefix + "-domestic";
  etc_dir_ = fs::path("/etc/netns") / client_;
}

Topology::~Topology() {
  // Deleting a namespace removes its veth ends, routes, nft tables and qdiscs with it.
  for (const std::string& ns : {client_, router_, abroad_, domestic_}) {
    run_command({"ip", "netns", "del", ns});
  }
  std::error_code ec;
  fs::remove_all(etc_dir_, ec);
}

Status Topology::in_ns(const std::string& netns, const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", netns};
  full.insert(full.end(), argv.begin(), argv.end());
  std::string out;
  if (run_command(full, &out) != 0) {
    return Status::error(ErrorCode::kUnavailable, "`" + join(full) + "` failed: " + out);
  }
  return {};
}

Status Topology::create() {
  std::vector<std::vector<std::string>> steps;
  for (const std::string& ns : {client_, router_, abroad_, domestic_}) {
    steps.push_back({"ip", "netns", "add", ns});
    steps.push_back({"ip", "-n", ns, "link", "set", "lo", "up"});
  }
  // One veth pair per side, created straight inside the namespaces (nothing in the host's).
  const auto link = [&](const std::string& ns, const std::string& name, const char* router_name) {
    steps.push_back({"ip", "link", "add", "name", name, "netns", ns, "type", "veth", "peer", "name",
                     router_name, "netns", router_});
    steps.push_back({"ip", "-n", ns, "link", "set", name, "up"});
    steps.push_back({"ip", "-n", router_, "link", "set", router_name, "up"});
  };
  link(client_, "c0", kRouterToClient);
  link(abroad_, "a0", kRouterToAbroad);
  link(domestic_, "d0", kRouterToDomestic);
  const auto addr = [&](const std::string& ns, const std::string& dev, const std::string& cidr) {
    steps.push_back({"ip", "-n", ns, "addr", "add", cidr, "dev", dev});
  };
  addr(client_, "c0", std::string(kClientIp) + "/24");
  addr(router_, kRouterToClient, std::string(kRouterClientSideIp) + "/24");
  addr(router_, kRouterToAbroad, "10.77.2.1/24");
  addr(router_, kRouterToDomestic, "10.77.3.1/24");
  addr(abroad_, "a0", std::string(kServerIp) + "/24");
  addr(abroad_, "a0", std::string(kForeignRelayIp) + "/24");
  addr(abroad_, "a0", std::string(kServerSecondIp) + "/24");
  addr(domestic_, "d0", std::string(kDomesticRelayIp) + "/24");
  steps.push_back({"ip", "-n", client_, "route", "add", "default", "via", kRouterClientSideIp});
  steps.push_back({"ip", "-n", abroad_, "route", "add", "default", "via", "10.77.2.1"});
  steps.push_back({"ip", "-n", domestic_, "route", "add", "default", "via", "10.77.3.1"});
  steps.push_back({"ip", "netns", "exec", router_, "sysctl", "-qw", "net.ipv4.ip_forward=1"});
  // The freeze rule counts bytes per flow: conntrack must account them (per namespace).
  steps.push_back(
      {"ip", "netns", "exec", router_, "sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"});
  created_ = true;
  for (const auto& step : steps) {
    std::string out;
    if (run_command(step, &out) != 0) {
      return Status::error(ErrorCode::kUnavailable, "`" + join(step) + "` failed: " + out);
    }
  }
  return {};
}

Status Topology::set_client_hosts(const std::string& hosts_lines) {
  std::error_code ec;
  fs::create_directories(etc_dir_, ec);
  std::ofstream out(etc_dir_ / "hosts");
  out << "127.0.0.1 localhost\n" << hosts_lines;
  if (!out) return Status::error(ErrorCode::kStorageIo, "cannot write the client's hosts file");
  return {};
}

Status Topology::set_client_resolver(const std::string& nameserver_ip) {
  std::error_code ec;
  fs::create_directories(etc_dir_, ec);
  std::ofstream out(etc_dir_ / "resolv.conf");
  out << "nameserver " << nameserver_ip << "\noptions timeout:1 attempts:1\n";
  if (!out) return Status::error(ErrorCode::kStorageIo, "cannot write the client's resolv.conf");
  return {};
}

Status Censor::nft(const std::string& script) {
  return topology_.in_ns(topology_.router(), {"nft", script});
}

namespace {
// The censor's own table; base chains on the forward hook each have to accept a packet.
constexpr const char* kTable =
    "add table inet censor; "
    "add chain inet censor forward { type filter hook forward priority 0; policy accept; }; ";
}  // namespace

Status Censor::block_sni(const std::string& server_name) {
  return topology_.in_ns(topology_.router(), {"iptables", "-A", "FORWARD", "-p", "tcp", "-m",
                                              "string", "--string", server_name, "--algo", "bm",
                                              "-j", "REJECT", "--reject-with", "tcp-reset"});
}

Status Censor::block_ip(const std::string& ip) {
  // "TCP reset in reply to the first packet to a listed address"; what the address still sends
  // on flows that existed before the block is dropped.
  return nft(
      std::string(kTable) + "add rule inet censor forward ip daddr " + ip +
      " meta l4proto tcp counter reject with tcp reset; add rule inet censor forward ip daddr " +
      ip + " counter drop; add rule inet censor forward ip saddr " + ip + " counter drop");
}

Status Censor::freeze_after(const std::string& server_ip, int reply_bytes) {
  // Silently: no reset, the flow just stops delivering what the server sends.
  return nft(std::string(kTable) + "add rule inet censor forward ip saddr " + server_ip +
             " ct reply bytes > " + std::to_string(reply_bytes) + " counter drop");
}

Status Censor::throttle(int bytes_per_second) {
  const std::string rate = std::to_string(bytes_per_second * 8) + "bit";
  for (const char* dev :
       {Topology::kRouterToClient, Topology::kRouterToAbroad, Topology::kRouterToDomestic}) {
    PARLEY_RETURN_IF_ERROR(
        topology_.in_ns(topology_.router(), {"tc", "qdisc", "replace", "dev", dev, "root", "tbf",
                                             "rate", rate, "burst", "5000", "latency", "2s"}));
  }
  return {};
}

Status Censor::allow_list_only(const std::string& allowed_ip) {
  const std::string c = kClientIp;
  return nft(std::string(kTable) +
             "add chain inet censor allowlist { type filter hook forward priority 10; policy "
             "drop; }; add rule inet censor allowlist ip saddr " +
             c + " ip daddr " + allowed_ip + " accept; add rule inet censor allowlist ip saddr " +
             allowed_ip + " ip daddr " + c + " accept; add rule inet censor allowlist ip saddr " +
             allowed_ip +
             " ip daddr 10.77.2.0/24 accept; add rule inet censor allowlist ip saddr " +
             "10.77.2.0/24 ip daddr " + allowed_ip +
             " accept; add rule inet censor allowlist counter drop");
}

Status Censor::total_outage() {
  return nft(std::string(kTable) +
             "add chain inet censor outage { type filter hook forward priority 20; policy drop; }; "
             "add rule inet censor outage counter drop");
}

long long Censor::hits() const {
  const std::string& r = topology_.router();
  long long total = 0;
  std::string out;
  // nft: "counter packets N bytes M" on every rule that drops or resets.
  run_command({"ip", "netns", "exec", r, "nft", "list table inet censor"}, &out);
  static const std::regex nft_counter("counter packets ([0-9]+)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), nft_counter);
       it != std::sregex_iterator(); ++it) {
    total += std::stoll((*it)[1].str());
  }
  // iptables: the packet column of the FORWARD rules.
  run_command({"ip", "netns", "exec", r, "iptables", "-L", "FORWARD", "-v", "-n", "-x"}, &out);
  static const std::regex iptables_rule("\n\\s*([0-9]+)\\s+[0-9]+\\s+REJECT");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), iptables_rule);
       it != std::sregex_iterator(); ++it) {
    total += std::stoll((*it)[1].str());
  }
  // tbf: packets held back over the rate ("overlimits") or dropped.
  static const std::regex tbf_counts("dropped ([0-9]+), overlimits ([0-9]+)");
  for (const char* dev :
       {Topology::kRouterToClient, Topology::kRouterToAbroad, Topology::kRouterToDomestic}) {
    run_command({"ip", "netns", "exec", r, "tc", "-s", "qdisc", "show", "dev", dev}, &out);
    if (out.find("tbf") == std::string::npos) continue;
    std::smatch match;
    if (std::regex_search(out, match, tbf_counts)) {
      total += std::stoll(match[1].str()) + std::stoll(match[2].str());
    }
  }
  return recorded_hits_ + total;
}

Status Censor::clear() {
  recorded_hits_ = hits();
  const std::string& r = topology_.router();
  // Each may have nothing to remove; only a failure to run at all matters.
  std::string out;
  run_command({"ip", "netns", "exec", r, "nft", "delete table inet censor"}, &out);
  run_command({"ip", "netns", "exec", r, "iptables", "-F", "FORWARD"}, &out);
  for (const char* dev :
       {Topology::kRouterToClient, Topology::kRouterToAbroad, Topology::kRouterToDomestic}) {
    run_command({"ip", "netns", "exec", r, "tc", "qdisc", "del", "dev", dev, "root"}, &out);
  }
  return topology_.in_ns(r, {"nft", "list ruleset"});
}

CensorDns::~CensorDns() {
  stop();
}

Status CensorDns::start(const std::string& name, const std::string& answer_ip) {
  stop();
  const std::string log = (log_dir_ / "dnsmasq.log").string();
  process_ = std::make_unique<NsProcess>(
      topology_.router(),
      std::vector<std::string>{
          "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=", "--user=root",
          "--no-resolv", "--no-hosts", "--bind-interfaces",
          std::string("--listen-address=") + kRouterClientSideIp,
          "--address=/" + name + "/" + answer_ip, "--log-queries", "--log-facility=-"},
      log, log);
  if (!process_->started()) return Status::error(ErrorCode::kUnavailable, "cannot start dnsmasq");
  // dnsmasq binds at once; a bind failure ends it within moments.
  std::this_thread::sleep_for(300ms);
  int code = 0;
  if (process_->poll(code)) {
    return Status::error(ErrorCode::kUnavailable,
                         "dnsmasq exited with " + std::to_string(code) + "; see " + log);
  }
  return {};
}

long long CensorDns::nxdomain_answers() const {
  const std::string log = read_file((log_dir_ / "dnsmasq.log").string());
  long long n = 0;
  for (auto at = log.find("is NXDOMAIN"); at != std::string::npos;
       at = log.find("is NXDOMAIN", at + 1)) {
    ++n;
  }
  return n;
}

void CensorDns::stop() {
  if (process_) process_->stop();
  process_.reset();
}

}  // namespace parley::censor
