// SPDX-License-Identifier: AGPL-3.0-or-later
// parley-load against a real ejabberd: started by bench/peers/ejabberd.sh on a free 127.0.0.1
// port in a temporary directory (its own config, Mnesia spool and logs), stopped by the PID the
// script records, whatever the assertions say. Skipped when ejabberd is not installed.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"
#include "parleyd_process.h"

namespace {

namespace fs = std::filesystem;
using parley::testing::ChildProcess;
using parley::testing::read_text;

const fs::path kScript = fs::path(PARLEY_SOURCE_DIR) / "bench" / "peers" / "ejabberd.sh";

std::string quoted(const std::string& text) {
  return "'" + text + "'";  // paths from mkdtemp and the source tree: no quotes inside
}

// One ejabberd for the whole suite; stopped in the destructor (by its recorded PID).
class Ejabberd {
 public:
  Ejabberd() {
    std::string pattern = (fs::temp_directory_path() / "parley-xmpp-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return;
    dir_ = pattern;
    port_ = parley::testing::free_port();
    const std::string command = quoted(kScript.string()) + " start " + std::to_string(port_) + " " +
                                quoted(dir_.string()) + " > " +
                                quoted((dir_ / "start.log").string()) + " 2>&1";
    started_ = std::system(command.c_str()) == 0;
    const std::string pid_text = read_text(dir_ / "beam.pid");
    if (!pid_text.empty()) pid_ = std::atoi(pid_text.c_str());
  }
  ~Ejabberd() {
    if (dir_.empty()) return;
    const std::string command =
        quoted(kScript.string()) + " stop " + quoted(dir_.string()) + " > /dev/null 2>&1";
    if (std::system(command.c_str()) == 0) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
  Ejabberd(const Ejabberd&) = delete;
  Ejabberd& operator=(const Ejabberd&) = delete;

  bool started() const { return started_ && pid_ > 0; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string start_log() const { return read_text(dir_ / "start.log"); }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  pid_t pid_ = 0;
};

struct LoadRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

LoadRun run_load(const fs::path& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PARLEY_LOAD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out_file = (dir / "load.out").string();
  const std::string err_file = (dir / "load.err").string();
  LoadRun result;
  {
    ChildProcess load(argv, out_file, err_file);
    if (!load.started()) return result;
    result.exit_code = load.wait(std::chrono::seconds(120));  // killed after that
  }
  result.out = read_text(out_file);
  result.err = read_text(err_file);
  return result;
}

// The number after "key": in the report's JSON line (top-level keys used here are unique).
std::optional<double> json_number(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  const std::size_t at = json.find(needle);
  if (at == std::string::npos) return std::nullopt;
  const char* start = json.c_str() + at + needle.size();
  char* end = nullptr;
  const double value = std::strtod(start, &end);
  if (end == start) return std::nullopt;
  return value;
}

class XmppRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists("/usr/bin/erl") || !fs::exists(kScript)) return;
    server_ = new Ejabberd();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "ejabberd (erl) is not installed";
    ASSERT_TRUE(server_->started()) << server_->start_log();
  }

  static std::vector<std::string> common_args() {
    return {"--target",     "xmpp",
            "--port",       std::to_string(server_->port()),
            "--server-pid", std::to_string(server_->pid()),
            "--json"};
  }

  static Ejabberd* server_;
};

Ejabberd* XmppRunTest::server_ = nullptr;

TEST_F(XmppRunTest, RelayDeliversEveryMessageOnce) {
  std::vector<std::string> args = {"relay",      "--pairs",       "4",
                                   "--duration", "1500ms",        "--warmup",
                                   "300ms",      "--user-prefix", "relay"};
  for (const auto& arg : common_args()) args.push_back(arg);
  const LoadRun run = run_load(server_->dir(), args);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string& json = run.out;
  EXPECT_EQ(json_number(json, "connections"), 8.0) << json;
  EXPECT_GT(json_number(json, "sent").value_or(0), 0.0) << json;
  EXPECT_GT(json_number(json, "delivered").value_or(0), 0.0) << json;
  EXPECT_EQ(json_number(json, "duplicates"), 0.0) << json;
  EXPECT_EQ(json_number(json, "errors"), 0.0) << json;
  // Everything the server accepted arrived (the run drains before it reports).
  EXPECT_EQ(json_number(json, "accepted_total"), json_number(json, "delivered_total")) << json;
  EXPECT_GT(json_number(json, "rss_after").value_or(0), 0.0) << "server not sampled: " << json;
}

TEST_F(XmppRunTest, OfflineStoresAndDrainsEveryMessage) {
  constexpr int kPairs = 4;
  constexpr int kMessages = 25;
  std::vector<std::string> args = {"offline",
                                   "--pairs",
                                   std::to_string(kPairs),
                                   "--messages-per-device",
                                   std::to_string(kMessages),
                                   "--user-prefix",
                                   "offline"};
  for (const auto& arg : common_args()) args.push_back(arg);
  const LoadRun run = run_load(server_->dir(), args);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string& json = run.out;
  EXPECT_EQ(json_number(json, "sent"), double{kPairs * kMessages}) << json;
  EXPECT_EQ(json_number(json, "delivered"), double{kPairs * kMessages}) << json;
  EXPECT_EQ(json_number(json, "duplicates"), 0.0) << json;
  EXPECT_EQ(json_number(json, "errors"), 0.0) << json;
  EXPECT_GT(json_number(json, "drain_messages_per_second").value_or(0), 0.0) << json;
}

TEST_F(XmppRunTest, GroupAndIdleRunClean) {
  {
    std::vector<std::string> args = {"group", "--group-size", "5",     "--duration",
                                     "1s",    "--warmup",     "200ms", "--user-prefix",
                                     "group"};
    for (const auto& arg : common_args()) args.push_back(arg);
    const LoadRun run = run_load(server_->dir(), args);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_GT(json_number(run.out, "delivered").value_or(0), 0.0) << run.out;
    // Each accepted round reaches all five receivers.
    EXPECT_EQ(json_number(run.out, "accepted_total").value_or(-1) * 5,
              json_number(run.out, "delivered_total").value_or(-2))
        << run.out;
  }
  {
    std::vector<std::string> args = {"idle", "--connections", "20",    "--duration",
                                     "1s",   "--keepalive",   "300ms", "--user-prefix",
                                     "idle"};
    for (const auto& arg : common_args()) args.push_back(arg);
    const LoadRun run = run_load(server_->dir(), args);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(json_number(run.out, "connections"), 20.0) << run.out;
    EXPECT_EQ(json_number(run.out, "errors"), 0.0) << run.out;
  }
}

}  // namespace
