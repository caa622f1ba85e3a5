// SPDX-License-Identifier: AGPL-3.0-or-later
// The "16 KB freeze" (CENSORSHIP.md): a censor that, once ~16 KB went from the server to the
// client on one TCP flow, silently drops the rest while the flow stays open. The receiving user's
// `parley` CLI reaches the real parleyd only through a proxy that does exactly that. The first
// connection stalls; the client notices (no byte for the stall timeout while the queue is owed),
// remembers that this network freezes, and from then on replaces each connection before its
// budget, so every message and the whole file still arrive, exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "dropping_proxy.h"
#include "e2e_support.h"
#include "parley/crypto/random.h"
#include "parley/util/encoding.h"

namespace parley::e2e {
namespace {

using ::testing::HasSubstr;

#ifdef PARLEY_CLI_PATH

constexpr std::uint64_t kFreezeAfterBytes = 16000;  // the threshold field reports give

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(FreezeE2eTest, AFreezeIsDetectedThenEveryMessageAndTheFileArriveOnce) {
  if (!std::filesystem::exists(PARLEY_CLI_PATH)) GTEST_SKIP() << "the parley CLI is not built";
  START_SERVER(server);
  DroppingProxy censor(server.process().port(), kFreezeAfterBytes, DroppingProxy::Mode::kFreeze);
  ASSERT_OK(censor.start());
  TempDir bob_home("parley-e2e-cli"), files("parley-e2e-files"), out("parley-e2e-out");
  auto bob = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {PARLEY_CLI_PATH, "--home", bob_home.str()});
    return run_command(args, std::chrono::seconds(300));
  };
  const std::string through_censor = "127.0.0.1:" + std::to_string(censor.port());
  auto init =
      bob({"init", "--server", through_censor, "--ca", server.cert_file(), "--username", "bob"});
  ASSERT_EQ(init.exit_code, 0) << init.err;

  // Alice is not censored: she talks to parleyd directly.
  Device alice(server);
  ASSERT_OK(alice.sign_up("alice"));
  constexpr int kMessages = 80;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(alice->queue_text("bob", "frozen-network message " + std::to_string(i)).ok());
  }
  const std::filesystem::path source = files.path() / "half-mebibyte.bin";
  {
    Bytes random = crypto::random_bytes(512UL * 1024);
    std::ofstream file(source, std::ios::binary);
    file.write(reinterpret_cast<const char*>(random.data()),
               static_cast<std::streamsize>(random.size()));
  }
  ASSERT_TRUE(alice->queue_file("bob", source, "through the freeze").ok());
  ASSERT_OK(alice->flush());

  auto started = std::chrono::steady_clock::now();
  auto received = bob({"receive", "--out", out.str(), "--json"});
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(received.exit_code, 0) << received.err << received.out.substr(0, 3000);

  // Every text exactly once.
  std::multiset<std::string> texts;
  for (int i = 0; i < kMessages; ++i) {
    std::string needle = "\"text\":\"frozen-network message " + std::to_string(i) + "\"";
    std::size_t count = 0;
    for (std::size_t at = received.out.find(needle); at != std::string::npos;
         at = received.out.find(needle, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << "message " << i;
  }
  // The whole file, byte-identical.
  const std::filesystem::path saved = out.path() / "half-mebibyte.bin";
  ASSERT_TRUE(std::filesystem::exists(saved)) << received.out << received.err;
  EXPECT_TRUE(read_file(saved) == read_file(source)) << "the file differs";

  // The client learned that this network freezes, and kept later connections under the cut:
  // only the connections before the lesson (sign-up's, the first receive's) ran into it.
  auto network = bob({"network", "--json"});
  ASSERT_EQ(network.exit_code, 0) << network.err;
  EXPECT_THAT(network.out, HasSubstr("\"freeze_mode\":true"));
  EXPECT_LE(censor.cuts(), 2u) << censor.connections() << " connections";
  EXPECT_GE(censor.connections(), 20u) << "512 KiB under a 16 KB budget needs many connections";
  std::printf(
      "[ freeze ] %d messages and 512 KiB through a 16 KB freeze: %.1f s, %llu "
      "connections, %llu frozen\n",
      kMessages, seconds, static_cast<unsigned long long>(censor.connections()),
      static_cast<unsigned long long>(censor.cuts()));
}

#else
TEST(FreezeE2eTest, AFreezeIsDetectedThenEveryMessageAndTheFileArriveOnce) {
  GTEST_SKIP() << "the parley CLI target is not part of this build";
}
#endif

}  // namespace
}  // namespace parley::e2e
