// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/keys.h"

#include <gtest/gtest.h>

#include <array>

#include "parley/redis/crc16.h"

namespace parley::redis {
namespace {

constexpr std::array<std::uint8_t, 16> kAccount = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

TEST(Keys, Format) {
  EXPECT_EQ(presence_key(kAccount, 1), "p:{00112233445566778899aabbccddeeff.1}");
  EXPECT_EQ(wakeup_channel(kAccount, 42), "w:{00112233445566778899aabbccddeeff.42}");
  EXPECT_EQ(rate_limit_key(kAccount, "sends_per_account"),
            "rl:{00112233445566778899aabbccddeeff}:sends_per_account");
  EXPECT_EQ(link_code_key("abcdefghijkmnpqr"), "lc:abcdefghijkmnpqr");
  EXPECT_EQ(link_code_account_key(kAccount), "lca:{00112233445566778899aabbccddeeff}");
}

TEST(Keys, RateLimitBucketsOfOneKeyShareASlot) {
  // Binary keys with braces stay inside the tag: they are hex.
  const std::string key("4\x7b\x7d\x00", 4);
  EXPECT_EQ(rate_limit_key(as_bytes(key), "a"), "rl:{347b7d00}:a");
  EXPECT_EQ(key_slot(rate_limit_key(as_bytes(key), "a")),
            key_slot(rate_limit_key(as_bytes(key), "sign_ups_per_ip")));
  EXPECT_EQ(key_slot(rate_limit_key(kAccount, "a")), key_slot(link_code_account_key(kAccount)));
}

TEST(Keys, PresenceAndWakeupShareASlot) {
  for (std::uint32_t device = 1; device < 50; ++device) {
    EXPECT_EQ(key_slot(presence_key(kAccount, device)), key_slot(wakeup_channel(kAccount, device)));
  }
}

TEST(Keys, DevicesOfOneAccountSpreadOverSlots) {
  // The device id is in the tag, so one account's devices do not all land on one master.
  EXPECT_NE(key_slot(presence_key(kAccount, 1)), key_slot(presence_key(kAccount, 2)));
}

}  // namespace
}  // namespace parley::redis
