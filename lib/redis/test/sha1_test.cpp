// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sha1.h"

#include <gtest/gtest.h>

#include <string>

#include "parley/redis/cluster_client.h"

namespace parley::redis {
namespace {

// FIPS 180-2 appendix A vectors (one block, two blocks, a million 'a').
TEST(Sha1, KnownAnswers) {
  EXPECT_EQ(detail::sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(detail::sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(detail::sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(detail::sha1_hex(std::string(1000000, 'a')),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

// What `SCRIPT LOAD "return 1"` answers.
TEST(Sha1, LuaScriptNameMatchesRedis) {
  EXPECT_EQ(LuaScript("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace parley::redis
