// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/slot_map.h"

#include <gtest/gtest.h>

namespace parley::redis {
namespace {

RedisValue node(std::string host, int port, std::string id) {
  // Redis 7 adds a fourth element, the node's metadata map (hostname), as an array.
  return RedisValue::array({RedisValue::string(std::move(host)), RedisValue::integer(port),
                            RedisValue::string(std::move(id)), RedisValue::array({})});
}

RedisValue range(int start, int end, std::vector<RedisValue> nodes) {
  std::vector<RedisValue> fields = {RedisValue::integer(start), RedisValue::integer(end)};
  for (RedisValue& n : nodes) fields.push_back(std::move(n));
  return RedisValue::array(std::move(fields));
}

// What a 3-master, 3-replica cluster answers to CLUSTER SLOTS.
RedisValue three_masters() {
  return RedisValue::array({
      range(0, 5460, {node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7004, "d")}),
      range(5461, 10922, {node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7005, "e")}),
      range(10923, 16383, {node("127.0.0.1", 7002, "c"), node("127.0.0.1", 7003, "f")}),
  });
}

TEST(SlotMap, ParsesClusterSlots) {
  Result<SlotMap> map = SlotMap::from_cluster_slots(three_masters(), "127.0.0.1");
  ASSERT_TRUE(map.ok()) << map.status().to_string();
  EXPECT_EQ(map->covered_slots(), kSlotCount);
  ASSERT_EQ(map->shards().size(), 3u);
  EXPECT_EQ(map->master_for_slot(0), (NodeAddress{"127.0.0.1", 7000}));
  EXPECT_EQ(map->master_for_slot(5460), (NodeAddress{"127.0.0.1", 7000}));
  EXPECT_EQ(map->master_for_slot(5461), (NodeAddress{"127.0.0.1", 7001}));
  EXPECT_EQ(map->master_for_slot(16383), (NodeAddress{"127.0.0.1", 7002}));
  EXPECT_EQ(map->shards()[2].replicas, (std::vector<NodeAddress>{{"127.0.0.1", 7003}}));
}

TEST(SlotMap, SeveralRangesOfOneMasterAreOneShard) {
  RedisValue reply = RedisValue::array({
      range(0, 99, {node("10.0.0.1", 6379, "a")}),
      range(100, 199, {node("10.0.0.2", 6379, "b")}),
      range(200, 299, {node("10.0.0.1", 6379, "a")}),
  });
  Result<SlotMap> map = SlotMap::from_cluster_slots(reply, "x");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->shards().size(), 2u);
  EXPECT_EQ(map->covered_slots(), 300u);
  EXPECT_EQ(map->master_for_slot(250), (NodeAddress{"10.0.0.1", 6379}));
  EXPECT_FALSE(map->master_for_slot(300).has_value());  // uncovered: cluster partly down
}

TEST(SlotMap, EmptyOrUnknownHostIsTheNodeAsked) {
  RedisValue reply = RedisValue::array(
      {range(0, 16383, {node("", 7000, "a")}), range(0, 0, {node("?", 7001, "b")})});
  Result<SlotMap> map = SlotMap::from_cluster_slots(reply, "192.0.2.7");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->master_for_slot(1), (NodeAddress{"192.0.2.7", 7000}));
  EXPECT_EQ(map->master_for_slot(0), (NodeAddress{"192.0.2.7", 7001}));
}

TEST(SlotMap, RejectsMalformedReplies) {
  auto parse = [](const RedisValue& reply) { return SlotMap::from_cluster_slots(reply, "h"); };
  EXPECT_EQ(
      parse(RedisValue::error("ERR This instance has cluster support disabled")).status().code(),
      ErrorCode::kMalformedInput);
  EXPECT_FALSE(parse(RedisValue::array({RedisValue::integer(1)})).ok());
  EXPECT_FALSE(parse(RedisValue::array({range(10, 5, {node("h", 1, "a")})})).ok());  // end < start
  EXPECT_FALSE(parse(RedisValue::array({range(0, 16384, {node("h", 1, "a")})})).ok());    // too far
  EXPECT_FALSE(parse(RedisValue::array({range(0, 1, {node("h", 0, "a")})})).ok());        // port 0
  EXPECT_FALSE(parse(RedisValue::array({range(0, 1, {node("h", 70000, "a")})})).ok());    // port
  EXPECT_FALSE(parse(RedisValue::array({range(0, 1, {RedisValue::string("h")})})).ok());  // node
  EXPECT_FALSE(parse(RedisValue::array({range(0, 1, {})})).ok());                         // no node
  // An empty array is a cluster with no slots assigned yet: valid, nothing covered.
  Result<SlotMap> empty = parse(RedisValue::array({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->covered_slots(), 0u);
}

TEST(SlotMap, AssignRepointsOneSlot) {
  SlotMap map = SlotMap::from_cluster_slots(three_masters(), "h").value();
  map.assign(3999, NodeAddress{"127.0.0.1", 7001});
  EXPECT_EQ(map.master_for_slot(3999), (NodeAddress{"127.0.0.1", 7001}));
  EXPECT_EQ(map.master_for_slot(3998), (NodeAddress{"127.0.0.1", 7000}));
  // A master the map did not know becomes a new shard.
  map.assign(4000, NodeAddress{"127.0.0.1", 7009});
  EXPECT_EQ(map.master_for_slot(4000), (NodeAddress{"127.0.0.1", 7009}));
  EXPECT_EQ(map.shards().size(), 4u);
}

TEST(NodeAddress, Parse) {
  EXPECT_EQ(NodeAddress::parse("127.0.0.1:6379").value(), (NodeAddress{"127.0.0.1", 6379}));
  EXPECT_EQ(NodeAddress::parse("::1:6379").value(), (NodeAddress{"::1", 6379}));
  EXPECT_EQ(NodeAddress::parse("localhost:1").value().to_string(), "localhost:1");
  EXPECT_FALSE(NodeAddress::parse("127.0.0.1").ok());
  EXPECT_FALSE(NodeAddress::parse(":6379").ok());
  EXPECT_FALSE(NodeAddress::parse("h:").ok());
  EXPECT_FALSE(NodeAddress::parse("h:65536").ok());
  EXPECT_FALSE(NodeAddress::parse("h:12x").ok());
}

TEST(Redirect, ParsesMovedAndAsk) {
  std::optional<Redirect> moved = parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.1");
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->target, (NodeAddress{"127.0.0.1", 6381}));

  std::optional<Redirect> ask = parse_redirect("ASK 0 ::1:7000", "10.0.0.1");
  ASSERT_TRUE(ask.has_value());
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->slot, 0);
  EXPECT_EQ(ask->target, (NodeAddress{"::1", 7000}));

  // An empty host means the host of the node that answered.
  std::optional<Redirect> same_host = parse_redirect("MOVED 16383 :7002", "10.0.0.1");
  ASSERT_TRUE(same_host.has_value());
  EXPECT_EQ(same_host->target, (NodeAddress{"10.0.0.1", 7002}));
}

TEST(Redirect, RejectsOtherErrors) {
  for (const char* text : {"ERR unknown command", "MOVED", "MOVED 3999", "MOVED x 127.0.0.1:1",
                           "MOVED 16384 127.0.0.1:1", "MOVED -1 127.0.0.1:1", "ASK 1 127.0.0.1",
                           "ASK 1 127.0.0.1:0", "MOVED 1 127.0.0.1:99999", "moved 1 h:1"}) {
    EXPECT_FALSE(parse_redirect(text, "h").has_value()) << text;
  }
}

}  // namespace
}  // namespace parley::redis
