// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Groups end to end: the `parley` CLI against the real parleyd over TLS. Alice creates a group
// with bob and carol, messages flow each way, carol is removed and gets nothing new.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e_support.h"

namespace parley::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

#ifdef PARLEY_CLI_PATH
TEST(GroupE2eTest, CliGroupCreateTalkRemove) {
  if (!std::filesystem::exists(PARLEY_CLI_PATH)) GTEST_SKIP() << "the parley CLI is not built";
  START_SERVER(server);
  TempDir home_a("parley-e2e-group"), home_b("parley-e2e-group"), home_c("parley-e2e-group");
  const std::string cli = PARLEY_CLI_PATH;
  const std::string address = server.settings().server;
  auto run = [&](const TempDir& home, std::vector<std::string> args) {
    args.insert(args.begin(), {cli, "--home", home.str()});
    return run_command(args, std::chrono::seconds(60));
  };
  for (const auto& [home, name] :
       {std::pair{&home_a, "alice"}, std::pair{&home_b, "bob"}, std::pair{&home_c, "carol"}}) {
    auto init =
        run(*home, {"init", "--server", address, "--ca", server.cert_file(), "--username", name});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  auto created = run(home_a, {"group", "create", "climbers", "bob", "carol", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_THAT(created.out, HasSubstr("\"name\":\"climbers\"")) << created.out;

  auto sent = run(home_a, {"group", "send", "climbers", "first", "ascent"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  for (const TempDir* home : {&home_b, &home_c}) {
    auto received = run(*home, {"receive", "--json"});
    ASSERT_EQ(received.exit_code, 0) << received.err;
    EXPECT_THAT(received.out, HasSubstr("\"event\":\"group_changed\"")) << received.out;
    EXPECT_THAT(received.out, HasSubstr("\"text\":\"first ascent\"")) << received.out;
    EXPECT_THAT(received.out, HasSubstr("\"group\":\"climbers\"")) << received.out;
  }

  auto reply = run(home_b, {"group", "send", "climbers", "rope", "is", "ready"});
  ASSERT_EQ(reply.exit_code, 0) << reply.err;
  auto at_alice = run(home_a, {"receive"});
  ASSERT_EQ(at_alice.exit_code, 0) << at_alice.err;
  EXPECT_THAT(at_alice.out, HasSubstr("bob in climbers: rope is ready")) << at_alice.out;

  auto removed = run(home_a, {"group", "remove", "climbers", "carol"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  auto secret = run(home_a, {"group", "send", "climbers", "summit", "plan", "without", "carol"});
  ASSERT_EQ(secret.exit_code, 0) << secret.err;

  auto at_bob = run(home_b, {"receive"});
  ASSERT_EQ(at_bob.exit_code, 0) << at_bob.err;
  EXPECT_THAT(at_bob.out, HasSubstr("alice removed carol")) << at_bob.out;
  EXPECT_THAT(at_bob.out, HasSubstr("summit plan without carol")) << at_bob.out;
  auto at_carol = run(home_c, {"receive"});
  ASSERT_EQ(at_carol.exit_code, 0) << at_carol.err;
  EXPECT_THAT(at_carol.out, HasSubstr("alice removed you")) << at_carol.out;
  EXPECT_THAT(at_carol.out, Not(HasSubstr("summit"))) << at_carol.out;
  EXPECT_THAT(at_carol.err, Not(HasSubstr("summit"))) << at_carol.err;

  auto info = run(home_c, {"group", "info", "climbers", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("\"member\":false")) << info.out;
  auto refused = run(home_c, {"group", "send", "climbers", "hello?"});
  EXPECT_NE(refused.exit_code, 0);
  auto history = run(home_b, {"group", "history", "climbers"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_THAT(history.out, HasSubstr("alice: first ascent")) << history.out;
  EXPECT_THAT(history.out, HasSubstr("you: rope is ready")) << history.out;
  auto list = run(home_b, {"group", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("climbers  (2 members")) << list.out;
}
#else
TEST(GroupE2eTest, CliGroupCreateTalkRemove) {
  GTEST_SKIP() << "the parley CLI target is not part of this build";
}
#endif

}  // namespace
}  // namespace parley::e2e
