// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The censor simulator's network: four network namespaces joined through a router namespace that
// plays the censor (../shared/CENSORSHIP.md, "Testing on one machine").
//
//   client (10.77.1.2) ── router (10.77.1.1 | 10.77.2.1 | 10.77.3.1) ── abroad (10.77.2.2 parleyd,
//                                  │                                     10.77.2.3 foreign relay,
//                                  └── domestic (10.77.3.2 relay)        10.77.2.4 parleyd again)
//
// Every name carries the test process id and a counter, so parallel runs never meet; everything
// is removed in the destructor, also when a test fails. Nothing the test did not create is
// touched: its rules live in its own router namespace, its processes are stopped by PID.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "child_process.h"
#include "parley/util/status.h"

namespace parley::censor {

// Addresses inside the simulated world (each namespace set is private, so they never clash).
inline constexpr const char* kClientIp = "10.77.1.2";
inline constexpr const char* kRouterClientSideIp = "10.77.1.1";  // also the censor's DNS server
inline constexpr const char* kServerIp = "10.77.2.2";            // parleyd
inline constexpr const char* kForeignRelayIp = "10.77.2.3";
inline constexpr const char* kServerSecondIp = "10.77.2.4";  // parleyd's second address
inline constexpr const char* kDomesticRelayIp = "10.77.3.2";

// Runs argv[0] (a path or a name found on PATH) to the end; the exit code (-1 for a signal or a
// failed start), stdout+stderr in `output`.
int run_command(const std::vector<std::string>& argv, std::string* output = nullptr,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Why this machine cannot run the simulator ("" when it can): not root, no `ip netns`, no veth,
// no nftables, no tbf, no conntrack accounting, no iptables string match.
std::string missing_kernel_feature();

// A child process inside a network namespace (`ip netns exec NS argv…`, which execs, so the PID
// is the program's), stdout and stderr appended to files. Stopped by PID: SIGTERM, then SIGKILL
// (stop(), or the destructor with a 1 s grace).
class NsProcess : public testing::ChildProcess {
 public:
  NsProcess(const std::string& netns, const std::vector<std::string>& argv,
            const std::string& out_file, const std::string& err_file);
  ~NsProcess() override;
};

// Runs `work` on a thread that has joined the network namespace `netns` (setns is per thread),
// so the test can reach loopback services inside it, e.g. parleyd's /healthz.
Status run_in_netns(const std::string& netns, const std::function<void()>& work);

class Topology {
 public:
  Topology();
  ~Topology();  // stops nothing it did not start; deletes its namespaces and /etc/netns files
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  // Creates the namespaces, links, addresses and routes and checks that they work.
  Status create();

  const std::string& client() const { return client_; }
  const std::string& router() const { return router_; }
  const std::string& abroad() const { return abroad_; }
  const std::string& domestic() const { return domestic_; }
  // The router's interfaces towards each side (for tc).
  static constexpr const char* kRouterToClient = "r-client";
  static constexpr const char* kRouterToAbroad = "r-abroad";
  static constexpr const char* kRouterToDomestic = "r-domestic";

  // A command in a namespace, e.g. in_ns(router(), {"nft", "-f", file}); Status with its output.
  Status in_ns(const std::string& netns, const std::vector<std::string>& argv) const;
  // Writes /etc/netns/<client>/{hosts,resolv.conf} (bind-mounted by `ip netns exec`).
  Status set_client_hosts(const std::string& hosts_lines);
  Status set_client_resolver(const std::string& nameserver_ip);

 private:
  bool created_ = false;
  std::string client_, router_, abroad_, domestic_;
  std::filesystem::path etc_dir_;
};

// The censor: every rule lives in the router namespace (a table of its own, `censor`).
class Censor {
 public:
  explicit Censor(const Topology& topology) : topology_(topology) {}

  // Each call adds rules; clear() removes all of them (and the tc limits).
  Status block_sni(const std::string& server_name);  // iptables string match -> TCP reset
  Status block_ip(const std::string& ip);            // new flows reset, established ones dropped
  Status freeze_after(const std::string& server_ip, int reply_bytes);  // ct reply bytes > N drop
  Status throttle(int bytes_per_second);  // tbf on the router's interfaces, both directions
  // Forward policy drop except client <-> `allowed_ip`; `allowed_ip` <-> abroad stays open.
  Status allow_list_only(const std::string& allowed_ip);
  Status total_outage();  // everything the router forwards is dropped
  Status clear();
  // Packets the censor dropped, reset or held back over the rate so far (clear() keeps the
  // count): proof that the block was in the path.
  long long hits() const;

 private:
  Status nft(const std::string& script);
  const Topology& topology_;
  long long recorded_hits_ = 0;
};

// dnsmasq in the router namespace on the client side, answering `name` with `answer_ip`, or
// NXDOMAIN when `answer_ip` is empty (the censor's resolver). Restartable with another answer.
class CensorDns {
 public:
  CensorDns(const Topology& topology, std::filesystem::path log_dir)
      : topology_(topology), log_dir_(std::move(log_dir)) {}
  ~CensorDns();
  Status start(const std::string& name, const std::string& answer_ip);
  void stop();
  long long nxdomain_answers() const;  // lies told so far (from dnsmasq's query log)

 private:
  const Topology& topology_;
  std::filesystem::path log_dir_;
  std::unique_ptr<NsProcess> process_;
};

}  // namespace parley::censor
