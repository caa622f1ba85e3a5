// SPDX-License-Identifier: AGPL-3.0-or-later
#include "fingerprint.h"

#include <gtest/gtest.h>

#include "parley/util/encoding.h"

namespace parley::net {
namespace {

constexpr char kHex[] = "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0";

Bytes expected() {
  return hex_decode(kHex).value();
}

TEST(FingerprintTest, FormatsLikeTheServer) {
  // The server's form: "SHA256:" and upper-case pairs joined by ':'.
  EXPECT_EQ(format_sha256_fingerprint(expected()),
            "SHA256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:0F:1E:2D:3C:4B:5A:69:78:87:96:"
            "A5:B4:C3:D2:E1:F0");
}

TEST(FingerprintTest, ParsesEveryWrittenForm) {
  const std::string server_form = format_sha256_fingerprint(expected());
  std::string lower_no_prefix = server_form.substr(7);
  for (char& c : lower_no_prefix) c = static_cast<char>(std::tolower(c));
  std::string upper_bare = kHex;
  for (char& c : upper_bare) c = static_cast<char>(std::toupper(c));

  for (const std::string& text : {server_form, std::string(kHex), upper_bare, lower_no_prefix,
                                  "sha256:" + std::string(kHex), "  " + server_form + "\n"}) {
    auto parsed = parse_pinned_sha256(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().to_string();
    EXPECT_EQ(*parsed, expected()) << text;
  }
}

TEST(FingerprintTest, RefusesWhatIsNotASha256) {
  const std::string full = kHex;
  for (const std::string& text :
       {std::string(), std::string("SHA256:"), full.substr(0, 62), full + "00",
        full.substr(0, 63) + "g", "SHA1:" + full, full.substr(0, 10) + " " + full.substr(10)}) {
    auto parsed = parse_pinned_sha256(text);
    ASSERT_FALSE(parsed.ok()) << "accepted '" << text << "'";
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("64 hex digits"), std::string::npos);
  }
}

}  // namespace
}  // namespace parley::net
