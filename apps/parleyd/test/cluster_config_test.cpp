// SPDX-License-Identifier: AGPL-3.0-or-later
#include "cluster_config.h"

#include <gtest/gtest.h>

namespace parley::parleyd {
namespace {

TEST(ClusterConfigTest, PostgresListSplitsOnSemicolonsAndTrims) {
  auto list = parse_postgres_list(" host=a dbname=parley ;host=b dbname=parley; ");
  ASSERT_TRUE(list.ok()) << list.status().to_string();
  EXPECT_EQ(*list, (std::vector<std::string>{"host=a dbname=parley", "host=b dbname=parley"}));
  EXPECT_TRUE(parse_postgres_list("")->empty());
  EXPECT_TRUE(parse_postgres_list("   ")->empty());
}

TEST(ClusterConfigTest, PostgresListRefusesAnEmptyEntryAndTooManyBackends) {
  EXPECT_EQ(parse_postgres_list("host=a;;host=b").status().code(), ErrorCode::kInvalidArgument);
  std::string many;
  for (std::size_t i = 0; i <= kMaxBackends; ++i) many += "host=h" + std::to_string(i) + ";";
  EXPECT_EQ(parse_postgres_list(many).status().code(), ErrorCode::kInvalidArgument);
}

TEST(ClusterConfigTest, ShardMapReadsRanges) {
  auto map = parse_shard_map("0-511:0, 512-1023:1", 2);
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  ASSERT_EQ(map->size(), 2u);
  EXPECT_EQ((*map)[0].first, 0u);
  EXPECT_EQ((*map)[0].last, 511u);
  EXPECT_EQ((*map)[0].backend, 0u);
  EXPECT_EQ((*map)[1].first, 512u);
  EXPECT_EQ((*map)[1].last, 1023u);
  EXPECT_EQ((*map)[1].backend, 1u);
  EXPECT_TRUE(parse_shard_map("", 2)->empty());
}

TEST(ClusterConfigTest, ShardMapRefusesMalformedEntriesWithTheirText) {
  for (const char* bad : {"0-511", "0:1", "a-b:0", "5-1:0", "0-511:x", "0-511:0:1", "-1-5:0"}) {
    auto map = parse_shard_map(bad, 2);
    EXPECT_EQ(map.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  auto beyond = parse_shard_map("0-1023:2", 2);
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.status().message().find("backend 2"), std::string::npos);
}

TEST(ClusterConfigTest, RedisSeedsAreHostPorts) {
  auto seeds = parse_redis_seeds("127.0.0.1:7000, [::1]:7001");
  ASSERT_TRUE(seeds.ok()) << seeds.status().to_string();
  ASSERT_EQ(seeds->size(), 2u);
  EXPECT_EQ((*seeds)[0].host, "127.0.0.1");
  EXPECT_EQ((*seeds)[0].port, 7000);
  EXPECT_EQ((*seeds)[1].host, "::1");
  EXPECT_EQ((*seeds)[1].port, 7001);
  EXPECT_EQ(parse_redis_seeds("127.0.0.1").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(parse_redis_seeds("")->empty());
}

}  // namespace
}  // namespace parley::parleyd
