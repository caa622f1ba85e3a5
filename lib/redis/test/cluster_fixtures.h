// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Fixtures for tests on the process-wide 3-master test cluster (shared_cluster()): one client of
// it, or two independent clients standing for two parleyd nodes (each node has its own
// connections, so nothing is shared between them but Redis itself). Used by lib/redis and
// lib/cluster tests; tests that kill nodes start a cluster of their own instead.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "parley/redis/cluster_client.h"
#include "redis_cluster_process.h"

namespace parley::redis::test {

// Connects a new client of the shared cluster into `client` (a test failure when it cannot).
inline void connect_client(RedisClusterProcess& cluster, std::unique_ptr<RedisCluster>& client) {
  auto connected = RedisCluster::connect(cluster.seeds());
  ASSERT_TRUE(connected.ok()) << connected.status().to_string();
  client = std::move(connected).value();
}

class OneClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = shared_cluster(&error);
    ASSERT_NE(cluster_, nullptr) << error;
    ASSERT_NO_FATAL_FAILURE(connect_client(*cluster_, client_));
  }

  RedisClusterProcess* cluster_ = nullptr;
  std::unique_ptr<RedisCluster> client_;
};

class TwoClientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = shared_cluster(&error);
    ASSERT_NE(cluster_, nullptr) << error;
    ASSERT_NO_FATAL_FAILURE(connect_client(*cluster_, node_a_));
    ASSERT_NO_FATAL_FAILURE(connect_client(*cluster_, node_b_));
  }

  RedisClusterProcess* cluster_ = nullptr;
  std::unique_ptr<RedisCluster> node_a_;  // node A's client
  std::unique_ptr<RedisCluster> node_b_;  // node B's client
};

}  // namespace parley::redis::test
