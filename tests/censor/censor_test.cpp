// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The censor simulator: a censored user (the `client` namespace) and an uncensored one (`abroad`,
// beside parleyd) talk with the real `parley` CLI while the `router` namespace between them
// blocks, throttles, freezes or cuts them in the ways ../shared/CENSORSHIP.md lists. Each
// scenario sends N messages each way and a 1 MiB file TO the censored user (downloads are what
// the freeze hits), then counts what arrived, the duplicates, the time from the start of the
// block to the first delivery and the transport that won, asserts 100 % delivery and no
// duplicates wherever a path exists, and writes one row of RESULTS.md.
//
// Knobs (environment): PARLEY_CENSOR_MESSAGES (per direction, default 100),
// PARLEY_CENSOR_FILE_KIB (default 1024), PARLEY_CENSOR_OUTAGE_S (default 20),
// PARLEY_CENSOR_TIMEOUT_S (per scenario after the block, default 40; the throttle gets
// PARLEY_CENSOR_THROTTLE_TIMEOUT_S, default 110), PARLEY_CENSOR_KEEP=1 keeps the work directory.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "censor_net.h"
#include "results.h"
#include "test_client.h"

namespace parley::censor {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The server's TLS name (what the SNI block looks for) and its port; the relays' cover names.
constexpr const char* kServerName = "chat.parley-censor.test";
constexpr int kServerPort = 8443;
constexpr const char* kForeignCoverName = "www.garden-photos.test";
constexpr const char* kDomesticCoverName = "shop.local-bakery.test";
constexpr int kRelayPort = 443;
constexpr int kFreezeBytes = 16000;
constexpr int kThrottleBytesPerSecond = 14000;
// Failover must find the next path within this (the transport manager's promise).
constexpr auto kFailoverLimit = 10s;

int env_int(const char* name, int fallback) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read on the main thread before any helper thread
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const long parsed = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || parsed < 0 || parsed > 100'000) return fallback;
  return static_cast<int>(parsed);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double seconds_since(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

std::string format_seconds(double seconds) {
  char buffer[32];
  (void)std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
  return buffer;
}

class WorkDir {
 public:
  WorkDir() {
    std::string pattern = (fs::temp_directory_path() / "parley-censor-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();  // no temp dir: nothing can run
    path_ = pattern;
  }
  ~WorkDir() {
    if (env_int("PARLEY_CENSOR_KEEP", 0) != 0) {
      std::printf("[ censor   ] kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// ---------------------------------------------------------------------------------------------
// The `parley` CLI. Every invocation is built here, so a change in its flags is one edit.

std::string parley_binary() {
  return PARLEY_CLI_PATH;
}

// What a censored user is configured with besides the server (CLI flags on `init`).
struct Paths {
  std::vector<std::string> endpoints;  // --endpoint IP:PORT (same TLS name)
  std::vector<std::string> relays;     // --relay LINK
  bool tls_name = false;               // --tls-name kServerName (the server given as an IP)
};

// `parley init` flags that this build of the CLI does not have yet ("" when it has them all).
std::string missing_cli_flags(const std::vector<std::string>& flags) {
  static const std::string help = [] {
    std::string out;
    run_command({parley_binary(), "init", "--help"}, &out);
    return out;
  }();
  std::string missing;
  for (const auto& flag : flags) {
    if (help.find(flag + " ") == std::string::npos && help.find(flag + ",") == std::string::npos &&
        help.find(flag + "\n") == std::string::npos) {
      missing += (missing.empty() ? "" : ", ") + flag;
    }
  }
  return missing;
}

std::vector<std::string> init_args(const std::string& server, const std::string& pin,
                                   const std::string& username, const Paths& paths) {
  std::vector<std::string> args = {"init", "--server",   server,  "--pin",
                                   pin,    "--username", username};
  if (paths.tls_name) args.insert(args.end(), {"--tls-name", kServerName});
  for (const auto& endpoint : paths.endpoints) args.insert(args.end(), {"--endpoint", endpoint});
  for (const auto& relay : paths.relays) args.insert(args.end(), {"--relay", relay});
  return args;
}

class User {
 public:
  User(std::string name, std::string netns, const fs::path& work)
      : name_(std::move(name)), netns_(std::move(netns)), dir_(work / name_) {
    fs::create_directories(dir_ / "downloads");
  }
  ~User() { stop_listen(); }
  User(const User&) = delete;
  User& operator=(const User&) = delete;

  const std::string& name() const { return name_; }
  fs::path listen_out() const { return dir_ / "listen.jsonl"; }
  fs::path listen_err() const { return dir_ / "listen.err"; }
  fs::path downloads() const { return dir_ / "downloads"; }

  std::vector<std::string> argv(std::vector<std::string> args) const {
    args.insert(args.begin(), {parley_binary(), "--home", (dir_ / "home").string()});
    return args;
  }
  // Runs one command to the end inside the user's namespace; the exit code.
  int run(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s) {
    const fs::path out = dir_ / "cli.out", err = dir_ / "cli.err";
    std::error_code ec;
    fs::remove(out, ec);
    fs::remove(err, ec);
    NsProcess process(netns_, argv(args), out.string(), err.string());
    const int code = process.wait(timeout);
    last_output_ = read_text(out) + read_text(err);
    return code;
  }
  const std::string& last_output() const { return last_output_; }

  // `parley --json listen` in the background; returns once it holds the home (so a `parley send`
  // from now on only queues, and the listener sends).
  Status start_listen() {
    stop_listen();
    listen_ = std::make_unique<NsProcess>(netns_,
                                          argv({"--json", "listen", "--out", downloads().string()}),
                                          listen_out().string(), listen_err().string());
    const auto deadline = Clock::now() + 20s;
    const std::size_t seen = read_text(listen_err()).size();
    while (Clock::now() < deadline) {
      int code = 0;
      if (listen_->poll(code)) {
        return Status::error(ErrorCode::kUnavailable, name_ + "'s `parley listen` exited with " +
                                                          std::to_string(code) + ": " +
                                                          read_text(listen_err()));
      }
      if (read_text(listen_err()).find("listening", seen) != std::string::npos) return {};
      std::this_thread::sleep_for(50ms);
    }
    return Status::error(ErrorCode::kTimeout, name_ + "'s `parley listen` did not start");
  }
  void stop_listen() {
    if (listen_) listen_->stop();
    listen_.reset();
  }

 private:
  std::string name_;
  std::string netns_;
  fs::path dir_;
  std::string last_output_;
  std::unique_ptr<NsProcess> listen_;
};

// What a receiver's `parley --json listen` printed, as of now.
struct Inbox {
  std::map<std::string, int> texts;  // incoming message text -> how often it was shown
  std::vector<std::string> file_paths;
  std::string last_via;  // the last "transport connected" event's route, "" when none
};

Inbox read_inbox(const User& user) {
  Inbox inbox;
  const std::string text = read_text(user.listen_out());
  std::istringstream lines(text);
  std::string line;
  static const std::regex text_field("\"text\":\"([^\"]*)\"");
  static const std::regex path_field("\"path\":\"([^\"]*)\"");
  static const std::regex via_field("\"via\":\"([^\"]*)\"");
  std::smatch match;
  while (std::getline(lines, line)) {
    if (line.find("\"event\":\"message\"") != std::string::npos &&
        line.find("\"outgoing\":false") != std::string::npos &&
        std::regex_search(line, match, text_field)) {
      ++inbox.texts[match[1].str()];
    } else if (line.find("\"event\":\"file_received\"") != std::string::npos &&
               line.find("\"outgoing\":false") != std::string::npos &&
               std::regex_search(line, match, path_field)) {
      inbox.file_paths.push_back(match[1].str());
    } else if (line.find("\"event\":\"transport\"") != std::string::npos &&
               line.find("\"state\":\"connected\"") != std::string::npos &&
               std::regex_search(line, match, via_field)) {
      inbox.last_via = match[1].str();
    }
  }
  return inbox;
}

// ---------------------------------------------------------------------------------------------
// One scenario: the world, the run, the measurements.

enum class Block { kNone, kThrottle, kOutage, kFreeze, kIpBlock, kSniBlock, kAllowList, kDns };

struct Scenario {
  std::string name;
  std::string censor;  // for the table
  Block block = Block::kNone;
  // SNI and DNS only hit new connections: the censored user's listener is restarted when the
  // block starts (the app coming back on a censored network). The others hit running flows too.
  bool restart_censored_at_block = false;
  std::vector<std::string> needs_cli_flags;
  int relays = 0;  // 0: none; 1: the foreign relay; 2: the domestic relay chained to it
  // The only route the censor leaves open: the winning transport must contain this text (checked
  // when the CLI reports its transport). Empty: the direct route is expected.
  std::string open_route;
};

Scenario scenario(std::string name, std::string censor, Block block) {
  Scenario s;
  s.name = std::move(name);
  s.censor = std::move(censor);
  s.block = block;
  return s;
}

class CensorScenario {
 public:
  explicit CensorScenario(Scenario scenario) : s_(std::move(scenario)) {
    row_.scenario = s_.name;
    row_.censor = s_.censor;
  }
  ~CensorScenario() {
    // Listeners and relays first (they live in the namespaces), then parleyd, then the world.
    if (censored_) censored_->stop_listen();
    if (abroad_user_) abroad_user_->stop_listen();
    relays_.clear();
    if (parleyd_) parleyd_->stop();
    dns_.reset();
    write_row(PARLEY_CENSOR_RESULTS,
              {env_int("PARLEY_CENSOR_MESSAGES", 100), env_int("PARLEY_CENSOR_FILE_KIB", 1024),
               env_int("PARLEY_CENSOR_OUTAGE_S", 20)},
              row_);
  }
  CensorScenario(const CensorScenario&) = delete;
  CensorScenario& operator=(const CensorScenario&) = delete;

  // Returns a reason to skip ("" to run).
  std::string why_skip() {
    std::string missing = missing_kernel_feature();
    if (missing.empty() && s_.block == Block::kDns &&
        run_command({"sh", "-c", "command -v dnsmasq"}) != 0) {
      missing = "dnsmasq is not installed (scripts/install-deps.sh)";
    }
    if (missing.empty() && s_.relays > 0 && std::string(PARLEY_RELAY_PATH).empty()) {
      missing = "the parley-relay program is not part of this build";
    }
    if (missing.empty()) {
      const std::string flags = missing_cli_flags(s_.needs_cli_flags);
      if (!flags.empty()) missing = "the parley CLI has no " + flags + " option yet";
    }
    if (!missing.empty()) row_.outcome = "skipped: " + missing;
    return missing;
  }

  void run() {
    const auto started = Clock::now();
    const int per_direction = std::max(1, env_int("PARLEY_CENSOR_MESSAGES", 100));
    const int file_kib = std::max(1, env_int("PARLEY_CENSOR_FILE_KIB", 1024));
    const auto outage = std::chrono::seconds(env_int("PARLEY_CENSOR_OUTAGE_S", 20));
    auto timeout = std::chrono::seconds(env_int("PARLEY_CENSOR_TIMEOUT_S", 40));
    if (s_.block == Block::kThrottle) {
      timeout = std::chrono::seconds(env_int("PARLEY_CENSOR_THROTTLE_TIMEOUT_S", 110));
    }
    if (s_.block == Block::kOutage) timeout += outage;
    row_.outcome = "FAILED (setup)";

    const Status created = topology_.create();
    ASSERT_TRUE(created.ok()) << created.to_string();
    ASSERT_NO_FATAL_FAILURE(start_parleyd());
    Paths paths;
    ASSERT_NO_FATAL_FAILURE(configure_paths(paths));
    ASSERT_NO_FATAL_FAILURE(create_users(paths));

    // Contacts, sessions and a working path before the censor starts: one message each way.
    ASSERT_EQ(censored_->run({"lookup", abroad_user_->name()}), 0) << censored_->last_output();
    ASSERT_EQ(abroad_user_->run({"lookup", censored_->name()}), 0) << abroad_user_->last_output();
    ASSERT_TRUE(censored_->start_listen().ok());
    ASSERT_TRUE(abroad_user_->start_listen().ok());
    ASSERT_EQ(censored_->run({"send", abroad_user_->name(), "warmup-from-censored"}), 0)
        << censored_->last_output();
    ASSERT_EQ(abroad_user_->run({"send", censored_->name(), "warmup-to-censored"}), 0)
        << abroad_user_->last_output();
    ASSERT_TRUE(wait_for(
        [&] {
          return read_inbox(*abroad_user_).texts.count("warmup-from-censored") > 0 &&
                 read_inbox(*censored_).texts.count("warmup-to-censored") > 0;
        },
        30s))
        << "no delivery even before the censor started:\n"
        << read_text(censored_->listen_err()) << read_text(abroad_user_->listen_err());

    // The file, made now, sent right after the block starts.
    const fs::path file = work_.path() / "photo.bin";
    {
      std::mt19937 random(static_cast<std::uint32_t>(::getpid()));
      std::string bytes(static_cast<std::size_t>(file_kib) * 1024, '\0');
      for (auto& c : bytes) c = static_cast<char>(random());
      std::ofstream(file, std::ios::binary) << bytes;
    }

    // The censor starts.
    if (s_.restart_censored_at_block) censored_->stop_listen();
    ASSERT_NO_FATAL_FAILURE(start_block());
    const auto block_start = Clock::now();
    if (s_.restart_censored_at_block) {
      ASSERT_TRUE(censored_->start_listen().ok());
    }

    // Everything is queued by `parley send` while the listeners hold the homes: they send it.
    std::vector<std::string> to_censored, from_censored;
    for (int i = 0; i < per_direction; ++i) {
      to_censored.push_back("to-censored-" + std::to_string(i));
      from_censored.push_back("from-censored-" + std::to_string(i));
    }
    std::atomic<int> queue_failures{0};
    std::string queue_error;
    std::thread abroad_sender([&] {
      if (abroad_user_->run({"send-file", censored_->name(), file.string()}) != 0) {
        ++queue_failures;
        queue_error = abroad_user_->last_output();
      }
      for (const auto& text : to_censored) {
        if (abroad_user_->run({"send", censored_->name(), text}) != 0) ++queue_failures;
      }
    });
    std::thread censored_sender([&] {
      for (const auto& text : from_censored) {
        if (censored_->run({"send", abroad_user_->name(), text}) != 0) ++queue_failures;
      }
    });

    // Watch the receivers; the outage is lifted on time meanwhile.
    std::optional<Clock::time_point> restored;
    std::optional<Clock::time_point> first_delivery;
    const auto count_delivered = [](const Inbox& inbox, const std::vector<std::string>& texts) {
      int n = 0;
      for (const auto& text : texts) n += inbox.texts.count(text) > 0 ? 1 : 0;
      return n;
    };
    const auto deadline = block_start + timeout;
    Inbox censored_inbox, abroad_inbox;
    bool done = false;
    while (!done && Clock::now() < deadline) {
      if (s_.block == Block::kOutage && !restored && Clock::now() >= block_start + outage) {
        EXPECT_TRUE(censor_.clear().ok());
        restored = Clock::now();
      }
      censored_inbox = read_inbox(*censored_);
      abroad_inbox = read_inbox(*abroad_user_);
      const int in = count_delivered(censored_inbox, to_censored);
      const int out = count_delivered(abroad_inbox, from_censored);
      if (!first_delivery && in + out > 0) first_delivery = Clock::now();
      done = in == per_direction && out == per_direction && !censored_inbox.file_paths.empty();
      if (!done) std::this_thread::sleep_for(200ms);
    }
    const auto finished = Clock::now();
    abroad_sender.join();
    censored_sender.join();
    // A last look: duplicates that arrive right after the last original.
    std::this_thread::sleep_for(1s);
    censored_inbox = read_inbox(*censored_);
    abroad_inbox = read_inbox(*abroad_user_);

    // Measurements.
    const int in = count_delivered(censored_inbox, to_censored);
    const int out = count_delivered(abroad_inbox, from_censored);
    int duplicates = 0;
    for (const Inbox* inbox : {&censored_inbox, &abroad_inbox}) {
      for (const auto& [text, count] : inbox->texts) duplicates += count - 1;
    }
    std::string file_state = "not received";
    bool file_ok = false;
    if (!censored_inbox.file_paths.empty()) {
      file_ok = read_text(censored_inbox.file_paths.front()) == read_text(file);
      file_state = file_ok ? "received, identical" : "received, DIFFERENT";
      if (censored_inbox.file_paths.size() > 1) {
        file_state += " (" + std::to_string(censored_inbox.file_paths.size()) + " times)";
      }
    }
    const auto measured_from = restored.value_or(block_start);
    std::optional<double> first_seconds;
    if (first_delivery) first_seconds = seconds_since(measured_from, *first_delivery);
    row_.to_censored = std::to_string(in) + "/" + std::to_string(per_direction);
    row_.from_censored = std::to_string(out) + "/" + std::to_string(per_direction);
    row_.duplicates = std::to_string(duplicates);
    row_.first_delivery = first_seconds ? format_seconds(*first_seconds) : "none";
    row_.file = file_state;
    row_.via = censored_inbox.last_via.empty() ? "not reported by the CLI"
                                               : "`" + censored_inbox.last_via + "`";
    row_.duration = format_seconds(seconds_since(started, Clock::now())) + " (delivery " +
                    format_seconds(seconds_since(block_start, finished)) + ")";

    const long long hits = s_.block == Block::kDns    ? dns_->nxdomain_answers()
                           : s_.block == Block::kNone ? 0
                                                      : censor_.hits();
    row_.hits = std::to_string(hits);

    // What must hold: a path exists in every scenario (for the outage, once it is lifted). The
    // reasons also go into the table.
    const double limit = std::chrono::duration<double>(kFailoverLimit).count();
    const std::string expected_route = s_.open_route.empty() ? "direct" : s_.open_route;
    std::vector<std::string> reasons;
    if (queue_failures.load() != 0) reasons.push_back("`parley send` failed");
    if (in != per_direction) reasons.push_back(std::to_string(per_direction - in) + " lost to");
    if (out != per_direction) {
      reasons.push_back(std::to_string(per_direction - out) + " lost from");
    }
    if (duplicates != 0) reasons.push_back(std::to_string(duplicates) + " duplicated");
    if (!file_ok) reasons.push_back("file " + file_state);
    if (!first_seconds) reasons.push_back("no delivery after the block");
    if (first_seconds && *first_seconds > limit) {
      reasons.push_back("first delivery " + format_seconds(*first_seconds) + " > " +
                        format_seconds(limit));
    }
    if (!censored_inbox.last_via.empty() &&
        censored_inbox.last_via.find(expected_route) == std::string::npos) {
      reasons.push_back("route not " + expected_route);
    }
    if (s_.block != Block::kNone && hits == 0) reasons.push_back("the censor never acted");
    row_.outcome = "pass";
    for (std::size_t i = 0; i < reasons.size(); ++i) {
      row_.outcome = (i == 0 ? "FAIL: " : row_.outcome + "; ") + reasons[i];
    }

    EXPECT_EQ(queue_failures.load(), 0) << queue_error;
    EXPECT_EQ(in, per_direction) << "messages lost on the way to the censored user";
    EXPECT_EQ(out, per_direction) << "messages lost on the way from the censored user";
    EXPECT_EQ(duplicates, 0);
    EXPECT_TRUE(file_ok) << file_state;
    EXPECT_TRUE(first_seconds.has_value()) << "nothing was delivered after the block started";
    if (first_seconds) {
      EXPECT_LE(*first_seconds, limit) << "the first delivery after the block took too long";
    }
    if (!censored_inbox.last_via.empty()) {
      EXPECT_NE(censored_inbox.last_via.find(expected_route), std::string::npos)
          << "the censored user's last route was " << censored_inbox.last_via
          << ", not the one the censor leaves open (" << expected_route << ")";
    }
    if (s_.block != Block::kNone) {
      EXPECT_GT(hits, 0) << "the censor's rules never matched: the block was not in the path";
    }
    const bool passed = reasons.empty();
    if (!passed) {
      std::printf("---- censored user's listen (stderr) ----\n%s\n",
                  read_text(censored_->listen_err()).c_str());
    }
  }

 private:
  template <typename Condition>
  static bool wait_for(Condition condition, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return condition();
  }

  void start_parleyd() {
    const fs::path data = work_.path() / "parleyd";
    fs::create_directories(data);
    std::string out;
    // A certificate for the server's name and both its addresses; clients pin it.
    ASSERT_EQ(run_command({PARLEYD_PATH, "gen-cert", "--out", (data / "tls").string(), "--name",
                           kServerName, "--ip", kServerIp, "--ip", kServerSecondIp},
                          &out),
              0)
        << out;
    const std::size_t at = out.find("fingerprint");
    ASSERT_NE(at, std::string::npos) << out;
    std::istringstream fields(out.substr(at + std::string("fingerprint").size()));
    fields >> pin_;
    if (pin_.rfind("SHA256:", 0) == 0) pin_ = pin_.substr(7);  // the CLI takes the hex only
    {
      std::ofstream config(data / "parleyd.toml");
      config << "data_dir = \"" << data.string() << "\"\n"
             << "listen = \"0.0.0.0:" << kServerPort << "\"\n"
             << "admin = \"127.0.0.1:9090\"\n"
             << "pow_difficulty = 0\n"
             << "threads = 2\nworkers = 2\nshutdown_grace_ms = 1000\nlog_level = \"info\"\n"
             // Abuse limits are not under test here: connection rotation and relays make many
             // connections from one address, and 200 messages go out within seconds.
             << "connections_per_ip_per_minute = 0\nmax_connections_per_ip = 0\n"
             << "sends_per_account_per_minute = 0\n";
    }
    const std::string log = (data / "parleyd.log").string();
    parleyd_ =
        std::make_unique<NsProcess>(topology_.abroad(),
                                    std::vector<std::string>{PARLEYD_PATH, "serve", "--config",
                                                             (data / "parleyd.toml").string()},
                                    log, log);
    ASSERT_TRUE(parleyd_->started());
    bool healthy = false;
    const auto deadline = Clock::now() + 20s;
    while (!healthy && Clock::now() < deadline) {
      int code = 0;
      ASSERT_FALSE(parleyd_->poll(code)) << "parleyd exited:\n" << read_text(log);
      ASSERT_TRUE(run_in_netns(topology_.abroad(), [&] {
                    auto health = testing::http_get("127.0.0.1", 9090, "/healthz", 500ms);
                    healthy = health.ok() && health->status == 200;
                  }).ok());
      if (!healthy) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(healthy) << read_text(log);
  }

  // A relay in `netns`; its share link.
  std::string start_relay(const std::string& netns, const std::string& ip,
                          const std::string& cover_name,
                          const std::vector<std::string>& upstream_args) {
    const fs::path dir = work_.path() / ("relay-" + ip);
    fs::create_directories(dir);
    std::vector<std::string> argv = {PARLEY_RELAY_PATH,
                                     "--listen",
                                     ip + ":" + std::to_string(kRelayPort),
                                     "--data-dir",
                                     (dir / "data").string(),
                                     "--cover-name",
                                     cover_name,
                                     "--public-host",
                                     ip,
                                     "--public-port",
                                     std::to_string(kRelayPort),
                                     "--no-qr"};
    argv.insert(argv.end(), upstream_args.begin(), upstream_args.end());
    const fs::path log = dir / "relay.log";
    relays_.push_back(std::make_unique<NsProcess>(netns, argv, log.string(), log.string()));
    static const std::regex link_pattern("parley://relay\\?[^\\s\"]+");
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      const std::string text = read_text(log);
      std::smatch match;
      if (std::regex_search(text, match, link_pattern)) return match[0].str();
      int code = 0;
      if (relays_.back()->poll(code)) break;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "the relay printed no share link:\n" << read_text(log);
    return {};
  }

  void configure_paths(Paths& paths) {
    const std::string server_ip_port = std::string(kServerIp) + ":" + std::to_string(kServerPort);
    switch (s_.block) {
      case Block::kIpBlock:
        // The same server on its second address, with its TLS name.
        paths.endpoints.push_back(std::string(kServerSecondIp) + ":" + std::to_string(kServerPort));
        paths.tls_name = true;
        break;
      case Block::kDns:
        // The server's address as an IP literal, for when DNS lies.
        paths.endpoints.push_back(server_ip_port);
        paths.tls_name = true;
        break;
      default:
        break;
    }
    if (s_.relays >= 1) {
      const std::string foreign = start_relay(topology_.abroad(), kForeignRelayIp,
                                              kForeignCoverName, {"--upstream", server_ip_port});
      ASSERT_FALSE(foreign.empty());
      if (s_.relays == 1) {
        paths.relays.push_back(foreign);
      } else {
        // Two hops that start inside the allow-list: domestic relay -> foreign relay -> parleyd.
        const std::string domestic = start_relay(topology_.domestic(), kDomesticRelayIp,
                                                 kDomesticCoverName, {"--upstream-link", foreign});
        ASSERT_FALSE(domestic.empty());
        paths.relays.push_back(domestic);
      }
    }
    row_.paths = "direct `" + std::string(kServerName) + "`";
    for (const auto& endpoint : paths.endpoints) row_.paths += " + endpoint " + endpoint;
    if (s_.relays == 1) row_.paths += " + foreign relay";
    if (s_.relays == 2) row_.paths += " + domestic relay (chained to the foreign one)";
  }

  void create_users(const Paths& paths) {
    // The censored user finds the server by name: the hosts file, or the censor's DNS.
    if (s_.block == Block::kDns) {
      dns_ = std::make_unique<CensorDns>(topology_, work_.path());
      ASSERT_TRUE(dns_->start(kServerName, kServerIp).ok());
      ASSERT_TRUE(topology_.set_client_hosts("").ok());
      ASSERT_TRUE(topology_.set_client_resolver(kRouterClientSideIp).ok());
    } else {
      ASSERT_TRUE(
          topology_.set_client_hosts(std::string(kServerIp) + " " + kServerName + "\n").ok());
    }
    censored_ = std::make_unique<User>("censored", topology_.client(), work_.path());
    abroad_user_ = std::make_unique<User>("abroad", topology_.abroad(), work_.path());
    const std::string server = std::string(kServerName) + ":" + std::to_string(kServerPort);
    ASSERT_EQ(censored_->run(init_args(server, pin_, censored_->name(), paths)), 0)
        << censored_->last_output();
    const std::string server_ip = std::string(kServerIp) + ":" + std::to_string(kServerPort);
    ASSERT_EQ(abroad_user_->run(init_args(server_ip, pin_, abroad_user_->name(), {})), 0)
        << abroad_user_->last_output();
  }

  void start_block() {
    Status status;
    switch (s_.block) {
      case Block::kNone:
        break;
      case Block::kThrottle:
        status = censor_.throttle(kThrottleBytesPerSecond);
        break;
      case Block::kOutage:
        status = censor_.total_outage();
        break;
      case Block::kFreeze:
        status = censor_.freeze_after(kServerIp, kFreezeBytes);
        break;
      case Block::kIpBlock:
        status = censor_.block_ip(kServerIp);
        break;
      case Block::kSniBlock:
        status = censor_.block_sni(kServerName);
        break;
      case Block::kAllowList:
        status = censor_.allow_list_only(kDomesticRelayIp);
        break;
      case Block::kDns:
        status = dns_->start(kServerName, "");  // NXDOMAIN from now on
        break;
    }
    ASSERT_TRUE(status.ok()) << status.to_string();
  }

  Scenario s_;
  Row row_;
  WorkDir work_;
  Topology topology_;
  Censor censor_{topology_};
  std::unique_ptr<NsProcess> parleyd_;
  std::vector<std::unique_ptr<NsProcess>> relays_;
  std::unique_ptr<CensorDns> dns_;
  std::unique_ptr<User> censored_;
  std::unique_ptr<User> abroad_user_;
  std::string pin_;
};

void run_scenario(Scenario s) {
  CensorScenario world(std::move(s));
  const std::string skip = world.why_skip();
  if (!skip.empty()) GTEST_SKIP() << skip;
  world.run();
}

// ---------------------------------------------------------------------------------------------

TEST(CensorTest, NoCensorBaseline) {
  run_scenario(scenario("baseline", "none", Block::kNone));
}

TEST(CensorTest, Throttle14KBps) {
  run_scenario(scenario("throttle", "tbf 14 KB/s each way on the router", Block::kThrottle));
}

TEST(CensorTest, TotalOutageThenRestore) {
  run_scenario(scenario("outage", "every forwarded packet dropped, then restored", Block::kOutage));
}

TEST(CensorTest, FreezeAfter16KB) {
  run_scenario(scenario("16 KB freeze", "nft `ct reply bytes > 16000 drop` from parleyd's address",
                        Block::kFreeze));
}

TEST(CensorTest, IpBlockFailsOverToSecondEndpoint) {
  Scenario s =
      scenario("IP block", "parleyd's address: TCP reset to new flows, established ones dropped",
               Block::kIpBlock);
  s.needs_cli_flags = {"--endpoint", "--tls-name"};
  s.open_route = std::string("direct ") + kServerSecondIp;
  run_scenario(s);
}

TEST(CensorTest, SniBlockFailsOverToRelay) {
  Scenario s = scenario("SNI block", "iptables string match on the server name -> TCP reset",
                        Block::kSniBlock);
  s.restart_censored_at_block = true;
  s.needs_cli_flags = {"--relay"};
  s.relays = 1;
  s.open_route = std::string("relay ") + kForeignRelayIp;
  run_scenario(s);
}

TEST(CensorTest, AllowListOnlyDomesticRelay) {
  Scenario s = scenario("allow-list", "forward policy drop except client <-> domestic relay",
                        Block::kAllowList);
  s.needs_cli_flags = {"--relay"};
  s.relays = 2;
  s.open_route = std::string("relay ") + kDomesticRelayIp;
  run_scenario(s);
}

TEST(CensorTest, DnsNxdomainFallsBackToIpEndpoint) {
  Scenario s = scenario("DNS NXDOMAIN",
                        "the censor's resolver answers NXDOMAIN for the server name", Block::kDns);
  s.restart_censored_at_block = true;
  s.needs_cli_flags = {"--endpoint", "--tls-name"};
  s.open_route = std::string("direct ") + kServerIp;
  run_scenario(s);
}

}  // namespace
}  // namespace parley::censor
