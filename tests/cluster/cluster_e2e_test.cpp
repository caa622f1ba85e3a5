// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Cluster mode end to end: the real parleyd on real PostgreSQL servers, with client-core devices
// over TLS. Nodes share the store, so a device may connect to any of them.

#include <gtest/gtest.h>

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "e2e_support.h"
#include "postgres_process.h"

namespace parley::e2e {
namespace {

using store::testing::PostgresProcess;

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

}  // namespace
}  // namespace parley::e2e
