// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the lib/cluster tests of one Redis-backed piece start from: the process-wide 3-master
// test cluster and two independent clients of it, standing for two parleyd nodes (each node has
// its own connections, so nothing is shared between them but Redis itself).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "parley/redis/cluster_client.h"
#include "redis_cluster_process.h"

namespace parley::cluster::test {

class TwoNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = redis::test::shared_cluster(&error);
    ASSERT_NE(cluster_, nullptr) << error;
    for (auto* client : {&redis_a_, &redis_b_}) {
      auto connected = redis::RedisCluster::connect(cluster_->seeds());
      ASSERT_TRUE(connected.ok()) << connected.status().to_string();
      *client = std::move(connected).value();
    }
  }

  redis::test::RedisClusterProcess* cluster_ = nullptr;
  std::unique_ptr<redis::RedisCluster> redis_a_;  // node A's client
  std::unique_ptr<redis::RedisCluster> redis_b_;  // node B's client
};

}  // namespace parley::cluster::test
