// SPDX-License-Identifier: AGPL-3.0-or-later
// parley-load against the real parleyd (with the benchmark's limits from bench/parleyd-bench.toml),
// each scenario small: the numbers bench/run.sh reports come from these same code paths.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "parleyd_process.h"
#include "run_support.h"
#include "test_support.h"

namespace parley::load {
namespace {

using testing::json_number;
using testing::run_load;

// The benchmark's abuse-limit settings, minus what the test harness sets itself.
std::vector<std::string> bench_limits() {
  std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/bench/parleyd-bench.toml");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    const std::string key = line.substr(0, line.find_first_of(" ="));
    if (key.empty() || key[0] == '#' || key == "log_level") continue;
    lines.push_back(line.substr(0, line.find('#')));
  }
  return lines;
}

class ParleyRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(bench_limits().empty()) << "bench/parleyd-bench.toml is missing";
    server_ = std::make_unique<parley::testing::ParleydProcess>(dir_.path(), bench_limits());
    const Status started = server_->start();
    ASSERT_TRUE(started.ok()) << started.message() << "\n" << server_->log();
  }

  std::vector<std::string> base(const std::string& scenario) {
    return {scenario,
            "--port",
            std::to_string(server_->port()),
            "--server-pid",
            std::to_string(server_->pid()),
            "--json"};
  }

  static std::vector<std::string> with(std::vector<std::string> args,
                                       const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  parley::testing::TempDir dir_;
  std::unique_ptr<parley::testing::ParleydProcess> server_;
};

TEST_F(ParleyRunTest, RelayDeliversEveryMessageOnceWithLatencies) {
  auto run = run_load(with(base("relay"), {"--pairs", "4", "--duration", "1500ms", "--warmup",
                                           "300ms", "--threads", "2"}));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(json_number(run.out, "connections"), 8);
  const double sent = json_number(run.out, "sent").value_or(0);
  EXPECT_GT(sent, 0);
  // Everything accepted inside the window arrived (the run drains before it reports).
  EXPECT_EQ(json_number(run.out, "delivered"), sent);
  EXPECT_EQ(json_number(run.out, "duplicates"), 0);
  EXPECT_EQ(json_number(run.out, "errors"), 0);
  EXPECT_EQ(json_number(run.out, "latency_ns.count"), sent);
  EXPECT_GT(json_number(run.out, "latency_ns.p50").value_or(0), 0);
  EXPECT_GE(json_number(run.out, "latency_ns.p99").value_or(0),
            json_number(run.out, "latency_ns.p50").value_or(0));
  EXPECT_GT(json_number(run.out, "server.rss_after").value_or(0), 1 << 20);
}

TEST_F(ParleyRunTest, AnOfferedRateIsKept) {
  // 200 messages/s for 2 s over 8 senders: about 400 sends, never a flood.
  auto run = run_load(with(
      base("relay"), {"--pairs", "4", "--rate", "200", "--duration", "2s", "--warmup", "200ms"}));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const double sent = json_number(run.out, "sent").value_or(0);
  EXPECT_GT(sent, 200);  // well below what was offered only if the server could not keep up
  EXPECT_LE(sent, 420);  // one interval's slack per sender over 400
  EXPECT_EQ(json_number(run.out, "delivered"), sent);
}

TEST_F(ParleyRunTest, OfflineMailboxesDrainCompletely) {
  auto run = run_load(
      with(base("offline"), {"--pairs", "3", "--messages-per-device", "40", "--threads", "2"}));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(json_number(run.out, "sent"), 120);
  EXPECT_EQ(json_number(run.out, "delivered"), 120);
  EXPECT_EQ(json_number(run.out, "duplicates"), 0);
  EXPECT_GT(json_number(run.out, "extra.drain_messages_per_second").value_or(0), 0);
}

TEST_F(ParleyRunTest, GroupMessagesFanOutToEveryMember) {
  auto run = run_load(with(base("group"), {"--group-size", "6", "--duration", "1s", "--warmup",
                                           "200ms", "--window", "4"}));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const double sent = json_number(run.out, "sent").value_or(0);
  EXPECT_GT(sent, 0);
  EXPECT_EQ(json_number(run.out, "delivered"), sent * 6);
  EXPECT_EQ(json_number(run.out, "duplicates"), 0);
}

TEST_F(ParleyRunTest, IdleConnectionsAreHeldAndMeasured) {
  auto run = run_load(with(base("idle"), {"--connections", "60", "--duration", "1s", "--keepalive",
                                          "300ms", "--loopback-sources", "3"}));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_EQ(json_number(run.out, "connections"), 60);
  EXPECT_EQ(json_number(run.out, "errors"), 0);
  EXPECT_TRUE(json_number(run.out, "extra.server_rss_per_connection_bytes").has_value());
  EXPECT_GE(json_number(run.out, "server.open_files").value_or(0), 60);
}

TEST_F(ParleyRunTest, NoServerIsAClearErrorNotAHang) {
  const std::uint16_t port = server_->port();
  server_->terminate();
  auto run = run_load(
      {"relay", "--port", std::to_string(port), "--pairs", "2", "--connect-timeout", "5s"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("could not run"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("connect"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace parley::load
