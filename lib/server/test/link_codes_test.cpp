// SPDX-License-Identifier: AGPL-3.0-or-later
// The in-memory LinkCodeRegistry (src/link_codes.h) against the rules of link_code_registry.h:
// the code's form, single use, expiry, one live code per account, erase_account; plus purging.
#include "../src/link_codes.h"

#include <gtest/gtest.h>

#include <set>

namespace parley::server {
namespace {

using namespace std::chrono_literals;

store::AccountId account(std::uint8_t n) {
  store::AccountId id{};
  id[0] = n;
  return id;
}

std::optional<store::AccountId> take(LinkCodes& codes, std::string_view code) {
  auto taken = codes.take(code);
  EXPECT_TRUE(taken.ok()) << taken.status().to_string();
  return taken.ok() ? *taken : std::nullopt;
}

TEST(MakeLinkCode, SixteenSymbolsFromTheAlphabet) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string code = make_link_code();
    ASSERT_EQ(code.size(), kLinkCodeLength);
    for (char c : code) EXPECT_NE(kLinkCodeAlphabet.find(c), std::string_view::npos) << code;
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 100u);  // 80 random bits each
}

TEST(LinkCodes, ACodeIsTakenOnce) {
  FakeClock clock;
  LinkCodes codes(clock);
  auto code = codes.create(account(1), 10min);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code->size(), kLinkCodeLength);
  EXPECT_EQ(take(codes, *code), account(1));
  EXPECT_EQ(take(codes, *code), std::nullopt);
  EXPECT_EQ(take(codes, "abcdefghijkmnpqr"), std::nullopt);  // never handed out
  EXPECT_EQ(take(codes, ""), std::nullopt);
  EXPECT_EQ(codes.size(), 0u);
}

TEST(LinkCodes, ACodeExpiresAfterItsTtl) {
  FakeClock clock;
  LinkCodes codes(clock);
  std::string early = *codes.create(account(1), 10min);
  std::string late = *codes.create(account(2), 10min);
  clock.advance(10min - 1ms);
  EXPECT_EQ(take(codes, early), account(1));
  clock.advance(1ms);
  EXPECT_EQ(take(codes, late), std::nullopt);
  EXPECT_EQ(codes.size(), 0u);  // an expired code is gone once tried, like a used one
}

TEST(LinkCodes, ANewCodeReplacesTheAccountsOldOne) {
  FakeClock clock;
  LinkCodes codes(clock);
  std::string first = *codes.create(account(1), 10min);
  std::string other = *codes.create(account(2), 10min);
  std::string second = *codes.create(account(1), 10min);
  EXPECT_NE(first, second);
  EXPECT_EQ(codes.size(), 2u);
  EXPECT_EQ(take(codes, first), std::nullopt);
  EXPECT_EQ(take(codes, second), account(1));
  EXPECT_EQ(take(codes, other), account(2));  // other accounts' codes are untouched
}

TEST(LinkCodes, EraseAccountRemovesItsCode) {
  FakeClock clock;
  LinkCodes codes(clock);
  std::string mine = *codes.create(account(1), 10min);
  std::string other = *codes.create(account(2), 10min);
  EXPECT_TRUE(codes.erase_account(account(1)).ok());
  EXPECT_TRUE(codes.erase_account(account(1)).ok());  // nothing left: still fine
  EXPECT_TRUE(codes.erase_account(account(3)).ok());  // never had one
  EXPECT_EQ(take(codes, mine), std::nullopt);
  EXPECT_EQ(take(codes, other), account(2));
}

TEST(LinkCodes, PurgeDropsOnlyExpiredCodes) {
  FakeClock clock;
  LinkCodes codes(clock);
  (void)*codes.create(account(1), 1min);
  (void)*codes.create(account(2), 1min);
  std::string lasting = *codes.create(account(3), 10min);
  EXPECT_EQ(codes.purge_expired(), 0u);
  clock.advance(1min);
  EXPECT_EQ(codes.purge_expired(), 2u);
  EXPECT_EQ(codes.size(), 1u);
  EXPECT_EQ(take(codes, lasting), account(3));
  // A purged account can have a new code.
  std::string again = *codes.create(account(1), 1min);
  EXPECT_EQ(take(codes, again), account(1));
}

}  // namespace
}  // namespace parley::server
