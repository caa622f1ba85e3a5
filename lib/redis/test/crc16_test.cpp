// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/crc16.h"

#include <gtest/gtest.h>

namespace parley::redis {
namespace {

// The check value of CRC-16/XMODEM, quoted by the Redis cluster spec.
TEST(Crc16, XmodemCheckValue) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

TEST(KeySlot, KnownSlots) {
  // Values from `redis-cli CLUSTER KEYSLOT` (also checked against a live server in
  // parley_redis_cluster_test).
  EXPECT_EQ(key_slot("123456789"), 0x31C3);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(KeySlot, AlwaysBelowSlotCount) {
  for (int i = 0; i < 100000; ++i) EXPECT_LT(key_slot("key:" + std::to_string(i)), kSlotCount);
}

// The examples of the cluster spec's "Hash tags" section.
TEST(KeySlot, HashTagsFromTheSpec) {
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(hash_tag("{user1000}.following"), "user1000");
  // "{}" is empty: the whole key is hashed.
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % kSlotCount);
  // The tag is between the first '{' and the first '}' after it.
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
}

TEST(KeySlot, UnclosedBraceHashesWholeKey) {
  EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");
  EXPECT_EQ(hash_tag("foo}bar{"), "foo}bar{");
  EXPECT_EQ(hash_tag("}{x}"), "x");
}

}  // namespace
}  // namespace parley::redis
