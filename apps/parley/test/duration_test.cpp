// SPDX-License-Identifier: AGPL-3.0-or-later
#include "duration.h"

#include <gtest/gtest.h>

namespace parley::cli {
namespace {

using std::chrono::seconds;

TEST(DurationTest, ParsesEachUnit) {
  EXPECT_EQ(*parse_duration("30s"), seconds(30));
  EXPECT_EQ(*parse_duration("5m"), seconds(300));
  EXPECT_EQ(*parse_duration("1h"), seconds(3600));
  EXPECT_EQ(*parse_duration("1d"), seconds(86400));
  EXPECT_EQ(*parse_duration("2w"), seconds(14 * 86400));
  EXPECT_EQ(*parse_duration("90m"), seconds(5400));
}

TEST(DurationTest, TimerAcceptsOff) {
  EXPECT_EQ(*parse_timer("off"), seconds(0));
  EXPECT_EQ(*parse_timer("1h"), seconds(3600));
  EXPECT_FALSE(parse_timer("OFF").ok());
  EXPECT_FALSE(parse_duration("off").ok());  // a timeout cannot be "off"
}

TEST(DurationTest, RejectsMalformed) {
  for (const char* text : {"", "s", "30", "-5m", "+5m", "5 m", " 5m", "5m ", "1.5h", "5x", "m5",
                           "5mm", "0x10s", "１s"}) {
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.status().message().find("30s, 5m, 1h"), std::string::npos) << text;
  }
}

TEST(DurationTest, RejectsZeroAndHuge) {
  EXPECT_EQ(parse_duration("0s").status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(parse_duration("0d").status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(parse_duration("99999999999999999999999s").status().code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(parse_duration("600w").status().code(), ErrorCode::kOutOfRange);
  EXPECT_TRUE(parse_duration("3650d").ok());
  EXPECT_EQ(parse_duration("3651d").status().code(), ErrorCode::kOutOfRange);
}

TEST(DurationTest, FormatsShortestExactUnit) {
  EXPECT_EQ(format_duration(seconds(0)), "off");
  EXPECT_EQ(format_duration(seconds(30)), "30s");
  EXPECT_EQ(format_duration(seconds(90)), "90s");
  EXPECT_EQ(format_duration(seconds(300)), "5m");
  EXPECT_EQ(format_duration(seconds(3600)), "1h");
  EXPECT_EQ(format_duration(seconds(86400)), "1d");
  EXPECT_EQ(format_duration(seconds(7 * 86400)), "1w");
  for (const char* text : {"45s", "7m", "13h", "6d", "3w"}) {
    EXPECT_EQ(format_duration(*parse_duration(text)), text);  // round trip
  }
}

}  // namespace
}  // namespace parley::cli
