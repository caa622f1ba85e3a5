// SPDX-License-Identifier: AGPL-3.0-or-later
//
// `parleyd move-shards` end to end: accounts made through a real parleyd on one PostgreSQL
// backend, the node stopped, the shards moved to a second backend by the real binary, the node
// started again with the map it printed, and a device still gets the messages queued for it.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "e2e_support.h"
#include "parley/client/client.h"
#include "parleyd_process.h"
#include "postgres_process.h"
#include "test_client.h"

namespace parley::e2e {
namespace {

using store::testing::PostgresProcess;
using namespace std::chrono_literals;

std::int64_t count_rows(const std::string& conninfo, const std::string& table) {
  pqxx::connection connection(conninfo);
  pqxx::nontransaction transaction(connection);
  return transaction.exec1("SELECT count(*) FROM " + table)[0].as<std::int64_t>();
}

// One parleyd node in cluster mode that keeps its data directory and ports across restarts, so
// the devices reach it again; only its shard map changes between starts.
class Node {
 public:
  explicit Node(std::string backends)
      : data_("parley-shard-move"),
        backends_(std::move(backends)),
        port_(testing::free_port()),
        admin_port_(testing::free_port()) {}

  Status start(const std::string& shard_map) {
    const std::string config = data_.str() + "/parleyd.toml";
    {
      std::ofstream out(config);
      out << "data_dir = \"" << data_.str() << "\"\n"
          << "listen = \"127.0.0.1:" << port_ << "\"\n"
          << "admin = \"127.0.0.1:" << admin_port_ << "\"\n"
          << "pow_difficulty = 0\nthreads = 2\nworkers = 2\nshutdown_grace_ms = 3000\n"
          << "postgres = \"" << backends_ << "\"\npostgres_connections = 4\n"
          << "shard_map = \"" << shard_map << "\"\n";
    }
    const std::string log = data_.str() + "/parleyd.log";
    process_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{testing::parleyd_binary(), "serve", "--config", config}, log, log,
        /*append=*/true);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      int code = 0;
      if (process_->poll(code)) {
        return Status::error(ErrorCode::kUnavailable,
                             "parleyd exited:\n" + testing::read_text(log));
      }
      auto health = testing::http_get("127.0.0.1", admin_port_, "/healthz", 500ms);
      if (health.ok() && health->status == 200) return {};
      std::this_thread::sleep_for(50ms);
    }
    return Status::error(ErrorCode::kTimeout, "parleyd did not become healthy");
  }

  void stop() {
    if (process_) process_->stop(15s);
  }

  client::ServerSettings settings() const {
    client::ServerSettings settings;
    settings.server = "127.0.0.1:" + std::to_string(port_);
    settings.trust.ca_file = data_.str() + "/tls/server-cert.pem";
    return settings;
  }

 private:
  TempDir data_;
  std::string backends_;
  std::uint16_t port_;
  std::uint16_t admin_port_;
  std::unique_ptr<testing::ChildProcess> process_;
};

// A device (a client home) that remembers the texts it received.
class Phone {
 public:
  Phone() : home_("parley-shard-move-home") {
    client::ClientOptions options;
    options.home = home_.path();
    options.prekey_batch = 20;
    options.request_timeout = 15s;
    auto opened = client::Client::open(std::move(options));
    EXPECT_TRUE(opened.ok()) << opened.status().to_string();
    if (!opened.ok()) return;
    client_ = std::move(opened).value();
    client_->set_event_handler([this](const client::Event& event) {
      if (event.kind == client::Event::Kind::kMessage && !event.outgoing) {
        texts_.push_back(event.body);
      }
    });
  }
  client::Client* operator->() { return client_.get(); }
  const std::vector<std::string>& texts() const { return texts_; }

 private:
  TempDir home_;
  std::unique_ptr<client::Client> client_;
  std::vector<std::string> texts_;
};

// The map in the `--shard-map "…"` line move-shards prints at the end ("" if none).
std::string printed_shard_map(const std::string& out) {
  const std::string marker = "--shard-map \"";
  const auto at = out.find(marker);
  if (at == std::string::npos) return "";
  const auto start = at + marker.size();
  return out.substr(start, out.find('"', start) - start);
}

TEST(ShardMoveE2eTest, ADeviceGetsItsQueuedMessagesAfterItsShardMovedToANewBackend) {
  PostgresProcess first;
  PostgresProcess second;
  ASSERT_TRUE(first.ok()) << first.failure();
  ASSERT_TRUE(second.ok()) << second.failure();
  ASSERT_TRUE(first.create_database("parley")) << first.failure();
  ASSERT_TRUE(second.create_database("parley")) << second.failure();
  const std::string source = first.conninfo("parley");
  const std::string target = second.conninfo("parley");
  const std::string backends = source + "; " + target;

  // Every shard on the first backend, as when the second server was just added.
  Node node(backends);
  ASSERT_OK(node.start("0-1023:0"));
  Phone alice;
  Phone bob;
  ASSERT_OK(alice->create_account(node.settings(), "alice", nullptr));
  ASSERT_OK(bob->create_account(node.settings(), "bob", nullptr));
  bob->disconnect();
  ASSERT_TRUE(alice->queue_text("bob", "queued before the move").ok());
  ASSERT_TRUE(alice->queue_text("bob", "and another one").ok());
  ASSERT_OK(alice->flush());
  alice->disconnect();
  EXPECT_EQ(count_rows(source, "accounts"), 2);
  EXPECT_EQ(count_rows(target, "accounts"), 0);

  const std::vector<std::string> move = {testing::parleyd_binary(),
                                         "move-shards",
                                         "--postgres",
                                         backends,
                                         "--shard-map",
                                         "0-1023:0",
                                         "--shards",
                                         "0-1023",
                                         "--from",
                                         "0",
                                         "--to",
                                         "1"};
  // Refused while the node is connected to the databases.
  CommandResult busy = run_command(move, 60s);
  EXPECT_EQ(busy.exit_code, 1) << busy.out << busy.err;
  EXPECT_NE(busy.err.find("stop every parleyd node"), std::string::npos) << busy.err;
  EXPECT_EQ(count_rows(target, "accounts"), 0);

  node.stop();
  CommandResult moved = run_command(move, 120s);
  ASSERT_EQ(moved.exit_code, 0) << moved.out << moved.err;
  EXPECT_NE(moved.out.find("2/2 accounts"), std::string::npos) << moved.out;
  const std::string new_map = printed_shard_map(moved.out);
  EXPECT_EQ(new_map, "0-1023:1") << moved.out;
  EXPECT_EQ(count_rows(source, "accounts"), 0);
  EXPECT_EQ(count_rows(target, "accounts"), 2);
  EXPECT_EQ(count_rows(target, "messages"), 2);

  ASSERT_OK(node.start(new_map));
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts(), (std::vector<std::string>{"queued before the move", "and another one"}));
  ASSERT_TRUE(bob->queue_text("alice", "after the move").ok());
  ASSERT_OK(bob->flush());
  ASSERT_OK(alice->sync());
  EXPECT_EQ(alice.texts(), std::vector<std::string>{"after the move"});
  node.stop();
}

}  // namespace
}  // namespace parley::e2e
