// SPDX-License-Identifier: AGPL-3.0-or-later
#include "json.h"

#include <gtest/gtest.h>

namespace parley::cli {
namespace {

TEST(JsonTest, QuotesPlainText) {
  EXPECT_EQ(json_quote(""), "\"\"");
  EXPECT_EQ(json_quote("hello"), "\"hello\"");
}

TEST(JsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json_quote(std::string("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(json_quote("\x1b[2J"), "\"\\u001b[2J\"");
}

TEST(JsonTest, KeepsValidUtf8) {
  EXPECT_EQ(json_quote("héllo ✓ 😀"), "\"héllo ✓ 😀\"");
}

TEST(JsonTest, ReplacesInvalidUtf8) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(json_quote("a\xFF"
                       "b"),
            "\"a" + kReplacement + "b\"");
  EXPECT_EQ(json_quote("\xC3"), "\"" + kReplacement + "\"");              // truncated
  EXPECT_EQ(json_quote("\xC0\xAF"), "\"" + kReplacement + "\"");          // overlong '/'
  EXPECT_EQ(json_quote("\xED\xA0\x80"), "\"" + kReplacement + "\"");      // surrogate
  EXPECT_EQ(json_quote("\xF4\x90\x80\x80"), "\"" + kReplacement + "\"");  // > U+10FFFF
  EXPECT_EQ(json_quote("\x80\x80"), "\"" + kReplacement + kReplacement + "\"");
}

TEST(JsonTest, BuildsOneObject) {
  std::string line = JsonLine()
                         .str("event", "message")
                         .str("text", "say \"hi\"")
                         .num("sent_ms", -5)
                         .boolean("outgoing", false)
                         .null("last")
                         .raw("inner", "{\"a\":1}")
                         .line();
  EXPECT_EQ(line,
            "{\"event\":\"message\",\"text\":\"say \\\"hi\\\"\",\"sent_ms\":-5,\"outgoing\":false,"
            "\"last\":null,\"inner\":{\"a\":1}}");
  EXPECT_EQ(JsonLine().line(), "{}");
}

}  // namespace
}  // namespace parley::cli
