// SPDX-License-Identifier: AGPL-3.0-or-later
#include "shard_move_plan.h"

#include <gtest/gtest.h>

namespace parley::parleyd {
namespace {

TEST(ShardMovePlanTest, ShardListReadsRangesAndSingleShards) {
  auto shards = parse_shard_list(" 5-7, 2 ,6-8, 1023");
  ASSERT_TRUE(shards.ok()) << shards.status().to_string();
  EXPECT_EQ(*shards, (std::vector<std::uint32_t>{2, 5, 6, 7, 8, 1023}));
  EXPECT_EQ(parse_shard_list("0-1023")->size(), 1024u);
}

TEST(ShardMovePlanTest, ShardListRefusesBadEntriesWithTheirText) {
  for (const char* bad : {"", " , ", "a", "5-", "-5", "7-5", "0-1024", "1024", "1-2-3", "1:0"}) {
    auto shards = parse_shard_list(bad);
    EXPECT_EQ(shards.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(parse_shard_list("0-5, 9-x").status().message().find("'9-x'"), std::string::npos);
}

TEST(ShardMovePlanTest, FormatMergesRunsAsTheShardMapReadsThem) {
  std::vector<std::size_t> backend_of(kShardCount, 0);
  EXPECT_EQ(format_shard_map(backend_of), "0-1023:0");
  for (std::size_t shard = 0; shard < 512; ++shard) backend_of[shard] = 1;
  backend_of[700] = 2;
  EXPECT_EQ(format_shard_map(backend_of), "0-511:1, 512-699:0, 700-700:2, 701-1023:0");
}

TEST(ShardMovePlanTest, PlanPrintsTheMapWithTheShardsOnTheTarget) {
  auto plan = plan_shard_move("host=a; host=b", "0-1023:0", "512-1023", 0, 1);
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  EXPECT_EQ(plan->backends, (std::vector<std::string>{"host=a", "host=b"}));
  EXPECT_EQ(plan->shards.size(), 512u);
  EXPECT_EQ(plan->shards.front(), 512u);
  EXPECT_EQ(plan->new_shard_map, "0-511:0, 512-1023:1");

  auto back = plan_shard_move("host=a; host=b; host=c", "0-511:0, 512-1023:1", "600-610", 1, 2);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->new_shard_map, "0-511:0, 512-599:1, 600-610:2, 611-1023:1");
}

TEST(ShardMovePlanTest, PlanRefusesInconsistentArguments) {
  auto refused = [](const std::string& postgres, const std::string& map, const std::string& shards,
                    std::size_t from, std::size_t to) {
    auto plan = plan_shard_move(postgres, map, shards, from, to);
    EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidArgument)
        << postgres << " | " << map << " | " << shards;
    return plan.ok() ? std::string() : plan.status().message();
  };
  EXPECT_NE(refused("host=a", "0-1023:0", "0-5", 0, 1).find("both backends"), std::string::npos);
  EXPECT_NE(refused("host=a; host=b", "0-1023:0", "0-5", 0, 2).find("--from/--to"),
            std::string::npos);
  EXPECT_NE(refused("host=a; host=b", "0-1023:0", "0-5", 1, 1).find("same backend"),
            std::string::npos);
  EXPECT_NE(refused("host=a; host=b", "", "0-5", 0, 1).find("--shard-map"), std::string::npos);
  EXPECT_NE(refused("host=a; host=b", "0-511:0", "0-5", 0, 1).find("exactly once"),
            std::string::npos);
  EXPECT_NE(refused("host=a; host=b", "0-600:0, 500-1023:1", "0-5", 0, 1).find("exactly once"),
            std::string::npos);
  EXPECT_NE(refused("host=a; host=b", "0-1023:0, 1024-1030:1", "0-5", 0, 1).find("exactly once"),
            std::string::npos);
  // A shard that is not on --from (e.g. the new map given to a second run by mistake).
  EXPECT_NE(refused("host=a; host=b", "0-511:1, 512-1023:0", "0-511", 0, 1)
                .find("shard 0 is on backend 1"),
            std::string::npos);
}

}  // namespace
}  // namespace parley::parleyd
