// SPDX-License-Identifier: AGPL-3.0-or-later
//
// parley-load against a real mosquitto, the way bench/run.sh runs it, only small: a broker on a
// free 127.0.0.1 port in a temporary directory with bench/peers/mosquitto.conf, then the program
// itself, whose one JSON line is checked.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "parleyd_process.h"
#include "run_support.h"
#include "test_support.h"

namespace parley::load {
namespace {

namespace fs = std::filesystem;
using parley::testing::ChildProcess;
using parley::testing::read_text;
using parley::testing::TempDir;
using testing::json_number;

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

class MqttRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kMosquitto)) GTEST_SKIP() << "mosquitto is not installed";
    ASSERT_FALSE(dir_.path().empty());
    port_ = parley::testing::free_port();
    ASSERT_NE(port_, 0);
    // bench/peers/mosquitto.conf with the placeholders filled in, as mosquitto.sh does.
    std::string config = read_text(fs::path(PARLEY_SOURCE_DIR) / "bench/peers/mosquitto.conf");
    ASSERT_FALSE(config.empty());
    replace_all(config, "@PORT@", std::to_string(port_));
    replace_all(config, "@DIR@", dir_.path());
    if (::geteuid() == 0) config += "user root\n";
    const auto config_file = fs::path(dir_.path()) / "mosquitto.conf";
    std::ofstream(config_file) << config;

    broker_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kMosquitto, "-c", config_file.string()},
        dir_.path() + "/mosquitto.out", dir_.path() + "/mosquitto.err");
    ASSERT_TRUE(broker_->started());
    // Ready when it accepts; give up after 10 s, or at once if it exited.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepts(port_)) {
      int code = 0;
      ASSERT_FALSE(broker_->poll(code))
          << "mosquitto exited with " << code << ": " << read_text(dir_.path() + "/mosquitto.log")
          << read_text(dir_.path() + "/mosquitto.err");
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "mosquitto never accepted";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Runs parley-load with `args` against the broker; returns its JSON line, expecting `exit_code`.
  std::string run_load(std::vector<std::string> args, int expected_exit = 0) {
    for (const char* extra : {"--target", "mqtt", "--json"}) args.emplace_back(extra);
    args.emplace_back("--port");
    args.push_back(std::to_string(port_));
    args.emplace_back("--server-pid");
    args.push_back(std::to_string(broker_->pid()));
    const auto run = testing::run_load(args, std::chrono::seconds(90));
    EXPECT_EQ(run.exit_code, expected_exit) << "stdout: " << run.out << "\nstderr: " << run.err;
    return run.out;
  }

  static void replace_all(std::string& text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  }

  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> broker_;  // SIGKILLed by its destructor
};

TEST_F(MqttRunTest, RelayDeliversEveryMessageOnceWithLatency) {
  const std::string json = run_load(
      {"relay", "--pairs", "4", "--duration", "1500ms", "--warmup", "300ms", "--threads", "2"});
  ASSERT_FALSE(json.empty());
  EXPECT_NE(json.find("\"target\":\"mqtt\""), std::string::npos) << json;
  EXPECT_EQ(json_number(json, "connections"), 8) << json;
  EXPECT_GT(json_number(json, "sent").value_or(0), 0) << json;
  EXPECT_GT(json_number(json, "delivered").value_or(0), 0) << json;
  EXPECT_EQ(json_number(json, "duplicates"), 0) << json;
  EXPECT_EQ(json_number(json, "errors"), 0) << json;
  EXPECT_GT(json_number(json, "latency_ns.p50").value_or(0), 0) << json;
  // The broker was sampled: its RSS is in the report.
  EXPECT_GT(json_number(json, "server.rss_after").value_or(0), 0) << json;
}

TEST_F(MqttRunTest, RelayAtAFixedRate) {
  const std::string json =
      run_load({"relay", "--pairs", "2", "--rate", "200", "--duration", "1s", "--warmup", "200ms"});
  EXPECT_GT(json_number(json, "delivered").value_or(0), 0) << json;
  // 200/s offered for 1 s: the rate is what was asked, not flat out (loose: timers and a busy
  // machine may shift a few sends across the window's edges).
  EXPECT_LT(json_number(json, "sent").value_or(1e9), 260) << json;
  EXPECT_EQ(json_number(json, "duplicates"), 0) << json;
  EXPECT_EQ(json_number(json, "errors"), 0) << json;
}

TEST_F(MqttRunTest, OfflineDeliversEveryStoredMessageAfterReconnecting) {
  constexpr int kPairs = 4;
  constexpr int kPerDevice = 50;
  // Twice: the second run finds the first run's sessions and must start clean anyway.
  for (int round = 0; round < 2; ++round) {
    const std::string json = run_load({"offline", "--pairs", std::to_string(kPairs),
                                       "--messages-per-device", std::to_string(kPerDevice)});
    EXPECT_EQ(json_number(json, "delivered"), kPairs * kPerDevice) << json;
    EXPECT_EQ(json_number(json, "duplicates"), 0) << json;
    EXPECT_EQ(json_number(json, "errors"), 0) << json;
    EXPECT_GT(json_number(json, "extra.drain_messages_per_second").value_or(0), 0) << json;
  }
}

TEST_F(MqttRunTest, GroupAndIdleRunClean) {
  const std::string group = run_load(
      {"group", "--group-size", "5", "--duration", "1s", "--warmup", "200ms", "--rate", "100"});
  EXPECT_EQ(json_number(group, "connections"), 6) << group;
  // Every message reaches all five subscribers.
  EXPECT_GT(json_number(group, "delivered").value_or(0), 0) << group;
  EXPECT_EQ(json_number(group, "errors"), 0) << group;
  EXPECT_EQ(json_number(group, "duplicates"), 0) << group;

  const std::string idle =
      run_load({"idle", "--connections", "20", "--duration", "1s", "--keepalive", "300ms"});
  EXPECT_EQ(json_number(idle, "connections"), 20) << idle;
  EXPECT_EQ(json_number(idle, "extra.connections_open_at_end"), 20) << idle;
  EXPECT_GT(json_number(idle, "extra.pings_answered").value_or(0), 0) << idle;
  EXPECT_EQ(json_number(idle, "errors"), 0) << idle;
}

TEST(MqttRunNoBroker, RefusedConnectionsFailTheRunWithoutHanging) {
  const auto run = testing::run_load(
      {"relay", "--target", "mqtt", "--port", std::to_string(parley::testing::free_port()),
       "--pairs", "2", "--duration", "500ms", "--connect-timeout", "5s"},
      std::chrono::seconds(30));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find("refused"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace parley::load
