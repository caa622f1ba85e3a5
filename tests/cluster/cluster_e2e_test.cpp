// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Cluster mode end to end: the real parleyd on real PostgreSQL servers, with client-core devices
// over TLS. Nodes share the store, so a device may connect to any of them.

#include <gtest/gtest.h>

#include <algorithm>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.h"
#include "parley/redis/crc16.h"
#include "parley/redis/keys.h"
#include "parley/util/encoding.h"
#include "postgres_process.h"
#include "redis_cluster_process.h"
#include "run_support.h"
#include "test_client.h"

namespace parley::e2e {
namespace {

using store::testing::PostgresProcess;
using namespace std::chrono_literals;

// Keeps `device` listening (live pushes, no reconnect) until it has `count` texts or `timeout`
// passes.
Status listen_for(Device& device, std::size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (device.texts().size() < count && std::chrono::steady_clock::now() < deadline) {
    Status status = device->listen(
        [&] {
          return device.texts().size() < count && std::chrono::steady_clock::now() < deadline;
        },
        50ms);
    if (!status.ok()) return status;
  }
  return Status();
}

// parleyd's config lines for a store on these PostgreSQL databases (one backend each).
std::vector<std::string> cluster_config(const std::vector<std::string>& conninfos) {
  std::string joined;
  for (const auto& conninfo : conninfos) joined += (joined.empty() ? "" : "; ") + conninfo;
  return {"postgres = \"" + joined + "\"", "postgres_connections = 4"};
}

std::int64_t count_rows(const std::string& conninfo, const std::string& table) {
  pqxx::connection connection(conninfo);
  pqxx::nontransaction transaction(connection);
  return transaction.exec1("SELECT count(*) FROM " + table)[0].as<std::int64_t>();
}

class ClusterE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(postgres_.ok()) << postgres_.failure();
    ASSERT_TRUE(postgres_.create_database("parley")) << postgres_.failure();
    conninfo_ = postgres_.conninfo("parley");
  }

  PostgresProcess postgres_;
  std::string conninfo_;
};

TEST_F(ClusterE2eTest, AMessageAcceptedByANodeOnPostgresSurvivesItsKillNine) {
  Server node(cluster_config({conninfo_}));
  ASSERT_TRUE(node.ok()) << node.start_status().to_string() << node.process().log();
  Device alice(node);
  Device bob(node);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  ASSERT_TRUE(alice->queue_text("bob", "stored in PostgreSQL").ok());
  ASSERT_OK(alice->flush());  // returns once the node acknowledged: the row is committed

  node.process().kill9();
  ASSERT_OK(node.process().start());
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts(), std::vector<std::string>{"stored in PostgreSQL"});
  // A second drain finds nothing new: delivered exactly once.
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts().size(), 1u);
}

TEST_F(ClusterE2eTest, APostgresRestartIsRiddenOutByRetries) {
  Server node(cluster_config({conninfo_}));
  ASSERT_TRUE(node.ok()) << node.start_status().to_string() << node.process().log();
  Device alice(node);
  Device bob(node);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  ASSERT_TRUE(alice->queue_text("bob", "before").ok());
  ASSERT_OK(alice->flush());

  postgres_.stop();
  ASSERT_TRUE(alice->queue_text("bob", "during").ok());
  // The node answers with an error instead of an ack: the message stays in alice's outbox.
  EXPECT_FALSE(alice->flush().ok());
  ASSERT_TRUE(postgres_.start()) << postgres_.failure();
  Status flushed = alice->flush();
  for (int attempt = 0; !flushed.ok() && attempt < 20; ++attempt) {
    alice->disconnect();
    flushed = alice->flush();
  }
  ASSERT_OK(flushed);
  ASSERT_TRUE(alice->queue_text("bob", "after").ok());
  ASSERT_OK(alice->flush());
  bob->disconnect();
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts(), (std::vector<std::string>{"before", "during", "after"}));
}

TEST_F(ClusterE2eTest, TwoNodesOnOneStoreDeliverEachOthersMessagesAtTheNextDrain) {
  Server node_a(cluster_config({conninfo_}));
  Server node_b(cluster_config({conninfo_}));
  ASSERT_TRUE(node_a.ok()) << node_a.start_status().to_string();
  ASSERT_TRUE(node_b.ok()) << node_b.start_status().to_string();
  Device alice(node_a);
  Device bob(node_b);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));  // the username check spans nodes: one store

  ASSERT_TRUE(alice->queue_text("bob", "from node A").ok());
  ASSERT_OK(alice->sync());
  // Without a cluster bus (--redis) node B does not hear of A's message while bob stays
  // connected: it finds it when bob's device drains its mailbox on its next connection.
  bob->disconnect();
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts(), std::vector<std::string>{"from node A"});
  ASSERT_TRUE(bob->queue_text("alice", "from node B").ok());
  ASSERT_OK(bob->sync());
  alice->disconnect();
  ASSERT_OK(alice->sync());
  EXPECT_EQ(alice.texts(), std::vector<std::string>{"from node B"});
}

TEST_F(ClusterE2eTest, AccountsSpreadOverTwoBackendsAndTalkAcrossThem) {
  PostgresProcess second;
  ASSERT_TRUE(second.ok()) << second.failure();
  ASSERT_TRUE(second.create_database("parley")) << second.failure();
  const std::vector<std::string> backends = {conninfo_, second.conninfo("parley")};
  Server node(cluster_config(backends));
  ASSERT_TRUE(node.ok()) << node.start_status().to_string() << node.process().log();

  // Enough accounts that both halves of the 1024 shards get some (the chance that 8 random
  // account ids all land on one half is 2 × 2⁻⁸).
  constexpr int kUsers = 8;
  std::vector<std::unique_ptr<Device>> devices;
  for (int i = 0; i < kUsers; ++i) {
    devices.push_back(std::make_unique<Device>(node));
    ASSERT_OK(devices.back()->sign_up("user" + std::to_string(i)));
  }
  EXPECT_GT(count_rows(backends[0], "accounts"), 0);
  EXPECT_GT(count_rows(backends[1], "accounts"), 0);
  EXPECT_EQ(count_rows(backends[0], "accounts") + count_rows(backends[1], "accounts"), kUsers);

  // Each writes to the next: most pairs straddle the two backends.
  for (int i = 0; i < kUsers; ++i) {
    const std::string to = "user" + std::to_string((i + 1) % kUsers);
    ASSERT_TRUE((*devices[i])->queue_text(to, "hello " + to).ok());
    ASSERT_OK((*devices[i])->sync());
  }
  for (int i = 0; i < kUsers; ++i) {
    ASSERT_OK((*devices[i])->sync());
    EXPECT_EQ(devices[i]->texts(), std::vector<std::string>{"hello user" + std::to_string(i)});
  }
}

// Nodes with a Redis Cluster between them (--redis): live delivery across nodes, and a node
// killed mid-traffic while its clients move to the other node.
class RedisClusterE2eTest : public ClusterE2eTest {
 protected:
  void SetUp() override {
    ClusterE2eTest::SetUp();
    if (HasFatalFailure()) return;
    auto redis = redis::test::RedisClusterProcess::start({});
    ASSERT_TRUE(redis.ok()) << redis.status().to_string();
    redis_ = std::move(redis).value();
  }

  // Nodes share one certificate, as nodes behind one name do, so a client's trust holds for all.
  std::vector<std::string> node_config(Server* first) const {
    std::vector<std::string> config = cluster_config({conninfo_});
    std::string seeds;
    for (const auto& seed : redis_->seeds()) seeds += (seeds.empty() ? "" : ", ") + seed;
    config.push_back("redis = \"" + seeds + "\"");
    if (first != nullptr) {
      const std::string tls = first->process().data_dir() + "/tls/";
      config.push_back("cert = \"" + tls + "server-cert.pem\"");
      config.push_back("key = \"" + tls + "server-key.pem\"");
    }
    return config;
  }

  // Starts nodes A and B on the shared store and Redis, with `extra` config lines on both.
  // Call as ASSERT_NO_FATAL_FAILURE(start_nodes()).
  void start_nodes(const std::vector<std::string>& extra = {}) {
    auto with_extra = [&](std::vector<std::string> config) {
      config.insert(config.end(), extra.begin(), extra.end());
      return config;
    };
    node_a_ = std::make_unique<Server>(with_extra(node_config(nullptr)));
    ASSERT_TRUE(node_a_->ok()) << node_a_->start_status().to_string() << node_a_->process().log();
    node_b_ = std::make_unique<Server>(with_extra(node_config(node_a_.get())));
    ASSERT_TRUE(node_b_->ok()) << node_b_->start_status().to_string() << node_b_->process().log();
  }

  // A device's settings for `node`, trusting the certificate the nodes share (the first's).
  static client::ServerSettings settings_for(const Server& node, const Server& first) {
    client::ServerSettings settings = node.settings();
    settings.trust.ca_file = first.cert_file();
    return settings;
  }

  // Links `second` to `primary`'s account through `settings` (another node): the primary waits
  // on its own node, as its app would, for the new device's proof that crosses the nodes.
  static void link(Device& primary, Device& second, const client::ServerSettings& settings) {
    auto code = primary->create_link_code();
    ASSERT_TRUE(code.ok()) << code.status().to_string();
    Result<std::uint32_t> linked = Status::error(ErrorCode::kInternal, "not run");
    std::thread waiter([&] { linked = primary->wait_for_link(*code, 30s); });
    Status joined = second.join(code->text, settings);
    waiter.join();
    ASSERT_OK(joined);
    ASSERT_TRUE(linked.ok()) << linked.status().to_string();
    EXPECT_EQ(*linked, 2u);
  }

  std::unique_ptr<redis::test::RedisClusterProcess> redis_;
  std::unique_ptr<Server> node_a_;  // start_nodes()
  std::unique_ptr<Server> node_b_;
};

// The value of the first sample named exactly `series` ("name" or "name{labels}") in a /metrics
// text; -1 when there is none.
double metric_value(const std::string& text, const std::string& series) {
  std::size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

// Warnings a device reported for sends the server refused with kRateLimited.
std::size_t rate_limited(Device& device) {
  std::size_t count = 0;
  for (const auto& event : device.events()) {
    if (event.kind == client::Event::Kind::kWarning && event.code == ErrorCode::kRateLimited) {
      ++count;
    }
  }
  return count;
}

TEST_F(RedisClusterE2eTest, AMessageOnOneNodeReachesADeviceListeningOnAnotherAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start_nodes());
  Server& node_a = *node_a_;
  Server& node_b = *node_b_;
  Device alice(node_a);
  Device bob(node_b);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob", settings_for(node_b, node_a)));

  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(alice->queue_text("bob", "live " + std::to_string(i)).ok());
    ASSERT_OK(alice->flush());
  }
  // Bob never reconnects: node B pushes because node A woke it through Redis.
  ASSERT_OK(listen_for(bob, 5, 30s));
  EXPECT_EQ(bob.texts(),
            (std::vector<std::string>{"live 0", "live 1", "live 2", "live 3", "live 4"}));
  ASSERT_TRUE(bob->queue_text("alice", "and back").ok());
  ASSERT_OK(bob->flush());
  ASSERT_OK(listen_for(alice, 1, 30s));
  EXPECT_EQ(alice.texts(), std::vector<std::string>{"and back"});
}

TEST_F(RedisClusterE2eTest, ANodeKilledMidTrafficLosesNothingAndDuplicatesNothing) {
  ASSERT_NO_FATAL_FAILURE(start_nodes());
  Server& node_a = *node_a_;
  Server& node_b = *node_b_;
  // Alice knows both nodes: A first, B as another endpoint of the same server.
  client::ServerSettings alice_settings = node_a.settings();
  alice_settings.network.endpoints.push_back("127.0.0.1:" +
                                             std::to_string(node_b.process().port()));
  Device alice(node_a);
  Device bob(node_b);
  ASSERT_OK(alice.sign_up("alice", alice_settings));
  ASSERT_OK(bob.sign_up("bob", settings_for(node_b, node_a)));

  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    if (i == kMessages / 2) node_a.process().kill9();  // mid-traffic
    ASSERT_TRUE(alice->queue_text("bob", "m" + std::to_string(i)).ok());
    // After the kill the flush fails until alice's client races to node B; the outbox keeps
    // the message and the next flush sends the same bytes (exactly once by its dedupe id).
    Status flushed = alice->flush();
    for (int attempt = 0; !flushed.ok() && attempt < 20; ++attempt) {
      alice->disconnect();
      flushed = alice->flush();
    }
    ASSERT_OK(flushed);
  }
  ASSERT_OK(listen_for(bob, kMessages, 60s));
  std::vector<std::string> expected;
  for (int i = 0; i < kMessages; ++i) expected.push_back("m" + std::to_string(i));
  EXPECT_EQ(bob.texts(), expected);  // every one, once, in order
  bob->disconnect();
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts().size(), static_cast<std::size_t>(kMessages));
}

TEST_F(RedisClusterE2eTest, ADeviceLinkedThroughAnotherNodeGetsEveryMessageLive) {
  ASSERT_NO_FATAL_FAILURE(start_nodes());
  Server& node_a = *node_a_;
  Server& node_b = *node_b_;
  Device alice(node_a);
  Device alice2(node_b);
  Device bob(node_a);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  // The code comes from node A and is redeemed on node B: link codes live in Redis.
  ASSERT_NO_FATAL_FAILURE(link(alice, alice2, settings_for(node_b, node_a)));

  const std::vector<std::string> to_alice = {"one", "two", "three"};
  for (const auto& text : to_alice) {
    ASSERT_TRUE(bob->queue_text("alice", text).ok());
    ASSERT_OK(bob->flush());
  }
  // Neither device reconnects: node A pushes to alice, node B to alice2 when woken through Redis.
  ASSERT_OK(listen_for(alice, to_alice.size(), 30s));
  ASSERT_OK(listen_for(alice2, to_alice.size(), 30s));
  EXPECT_EQ(alice.texts(), to_alice);
  EXPECT_EQ(alice2.texts(), to_alice);

  // From the device on node B: bob (node A) gets it, and alice's first device sees it as hers.
  ASSERT_TRUE(alice2->queue_text("bob", "from alice's second device").ok());
  ASSERT_OK(alice2->flush());
  ASSERT_OK(listen_for(bob, 1, 30s));
  EXPECT_EQ(bob.texts(), std::vector<std::string>{"from alice's second device"});
  ASSERT_OK(alice->sync());
  auto history = alice->history("bob", 10);
  ASSERT_TRUE(history.ok()) << history.status().to_string();
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->back().body, "from alice's second device");
  EXPECT_EQ(history->back().direction, client::MessageDirection::kOutgoing);
  EXPECT_EQ(history->back().sender_device, 2u);
  // Exactly once everywhere.
  ASSERT_OK(alice2->sync());
  EXPECT_EQ(alice2.texts(), to_alice);
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts().size(), 1u);
}

TEST_F(RedisClusterE2eTest, SendLimitsCountAcrossNodes) {
  // Six sends per account and minute, on both nodes. Without a shared bucket, moving to the other
  // node would give an account a fresh budget there.
  ASSERT_NO_FATAL_FAILURE(start_nodes({"sends_per_account_per_minute = 6"}));
  Server& node_a = *node_a_;
  Server& node_b = *node_b_;
  Device alice(node_a);
  Device alice2(node_b);
  Device bob(node_a);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  ASSERT_NO_FATAL_FAILURE(link(alice, alice2, settings_for(node_b, node_a)));

  // Alice's first device spends the account's budget on node A (linking spent some of it too,
  // and each message is two sends: to bob, and a copy for her other device).
  int accepted = 0;
  while (rate_limited(alice) == 0 && accepted < 10) {
    ASSERT_TRUE(alice->queue_text("bob", "m" + std::to_string(accepted)).ok());
    ASSERT_OK(alice->flush());
    if (rate_limited(alice) == 0) ++accepted;
  }
  ASSERT_EQ(rate_limited(alice), 1u) << "node A never refused a send";
  EXPECT_LE(accepted, 6);
  // Node B refuses her second device at once: the bucket is the account's, in Redis. (The next
  // token comes back only after 10 s.)
  ASSERT_TRUE(alice2->queue_text("bob", "from node B").ok());
  ASSERT_OK(alice2->flush());
  EXPECT_EQ(rate_limited(alice2), 1u);
  // The refused message stays in alice2's outbox (it is sent once the bucket refills).
  ASSERT_OK(bob->sync());
  const auto texts = bob.texts();
  EXPECT_GE(texts.size(), static_cast<std::size_t>(accepted));
  EXPECT_EQ(std::count(texts.begin(), texts.end(), "from node B"), 0);
}

TEST_F(RedisClusterE2eTest, DeliveryContinuesAfterTheRestartOfARedisMaster) {
  ASSERT_NO_FATAL_FAILURE(start_nodes());
  Server& node_a = *node_a_;
  Server& node_b = *node_b_;
  Device alice(node_a);
  Device bob(node_b);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob", settings_for(node_b, node_a)));
  ASSERT_TRUE(alice->queue_text("bob", "before").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(listen_for(bob, 1, 30s));

  // The master that carries bob's wake-up channel (no replicas: its slots are down until it is
  // back).
  auto me = bob->whoami();
  ASSERT_TRUE(me.ok()) << me.status().to_string();
  auto account = hex_decode(me->account_id_hex);
  ASSERT_TRUE(account.ok());
  const auto slot = redis::key_slot(redis::wakeup_channel(*account, me->device_id));
  auto master = redis_->master_index_for_slot(slot);
  ASSERT_TRUE(master.ok()) << master.status().to_string();
  redis_->kill_node(*master);

  // Node A commits to PostgreSQL and acknowledges; its wake-up is lost with the master.
  ASSERT_TRUE(alice->queue_text("bob", "during").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(redis_->restart_node(*master));
  ASSERT_OK(redis_->wait_until_healthy(60s));
  // Bob never reconnects: node B re-subscribes his channel once the master is back, and a
  // re-made subscription drains his mailbox.
  ASSERT_OK(listen_for(bob, 2, 60s));
  ASSERT_TRUE(alice->queue_text("bob", "after").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(listen_for(bob, 3, 30s));
  EXPECT_EQ(bob.texts(), (std::vector<std::string>{"before", "during", "after"}));
  // What an operator sees on node B: the re-made subscription.
  auto scraped = testing::http_get("127.0.0.1", node_b.process().admin_port(), "/metrics");
  ASSERT_TRUE(scraped.ok()) << scraped.status().to_string();
  EXPECT_GE(metric_value(scraped->body, "parley_cluster_resubscriptions_total"), 1.0)
      << scraped->body;
  EXPECT_EQ(metric_value(scraped->body, "parley_cluster_attachments"), 1.0) << scraped->body;
  bob->disconnect();
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts().size(), 3u);
}

TEST_F(RedisClusterE2eTest, ParleyLoadRelaysBetweenTwoNodes) {
  // The load generator's limits off, as bench/parleyd-bench.toml has them.
  const std::vector<std::string> load_limits = {
      "connections_per_ip_per_minute = 0", "max_connections_per_ip = 0",
      "signups_per_ip_per_hour = 0", "sends_per_account_per_minute = 0",
      "prekey_fetches_per_account_per_minute = 0"};
  ASSERT_NO_FATAL_FAILURE(start_nodes(load_limits));
  Server& node_a = *node_a_;
  Server& node_b = *node_b_;
  // Devices alternate between the nodes, so each pair's messages cross from one to the other.
  auto run = load::testing::run_load({"relay", "--port", std::to_string(node_a.process().port()),
                                      "--also-port", std::to_string(node_b.process().port()),
                                      "--ca-file", node_a.cert_file(), "--pairs", "8", "--duration",
                                      "2s", "--warmup", "300ms", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const double sent = load::testing::json_number(run.out, "sent").value_or(0);
  EXPECT_GT(sent, 0) << run.out;
  EXPECT_EQ(load::testing::json_number(run.out, "delivered"), sent) << run.out;
  EXPECT_EQ(load::testing::json_number(run.out, "duplicates"), 0) << run.out;
  EXPECT_EQ(load::testing::json_number(run.out, "errors"), 0) << run.out;
}

}  // namespace
}  // namespace parley::e2e
