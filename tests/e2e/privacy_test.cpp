// SPDX-License-Identifier: AGPL-3.0-or-later
//
// What is left on disk and in logs after a conversation: the server's whole data directory and
// its log hold none of the plaintext (usernames excepted: the server needs them for lookups),
// and the clients' homes hold nothing readable at all (SQLCipher).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "e2e_support.h"
#include "parley/crypto/random.h"
#include "parley/util/encoding.h"

namespace parley::e2e {
namespace {

// Every regular file under `dir` (RocksDB tables, WAL, MANIFEST, certificates, client databases)
// with the names of those that contain `needle`.
std::vector<std::string> files_containing(const std::filesystem::path& dir,
                                          const std::string& needle, std::size_t* scanned) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (scanned) *scanned += bytes.size();
    if (bytes.find(needle) != std::string::npos) hits.push_back(entry.path().string());
  }
  return hits;
}

std::string marker(const std::string& what) {
  return "privacy-marker-" + what + "-" + hex_encode(crypto::random_bytes(8));
}

TEST(PrivacyTest, NoPlaintextOnTheServerOrInAnyHome) {
  START_SERVER(server);
  Device alice(server), bob(server);
  const std::string alice_name = "alice" + hex_encode(crypto::random_bytes(3));
  const std::string bob_name = "bob" + hex_encode(crypto::random_bytes(3));
  ASSERT_OK(alice.sign_up(alice_name));
  ASSERT_OK(bob.sign_up(bob_name));
  bob.close();  // Bob offline: Alice's messages wait in his mailbox on the server

  std::vector<std::string> secrets;
  for (const char* what : {"first", "second", "third"}) {
    secrets.push_back(marker(what));
    ASSERT_TRUE(alice->queue_text(bob_name, secrets.back()).ok());
  }
  ASSERT_OK(alice->flush());
  const std::filesystem::path data_dir = server.process().data_dir();
  std::size_t scanned = 0;
  for (const auto& secret : secrets) {
    EXPECT_TRUE(files_containing(data_dir, secret, &scanned).empty())
        << "plaintext in the server's data directory while queued";
  }

  ASSERT_OK(bob.reopen());
  ASSERT_OK(bob->sync());
  ASSERT_EQ(bob.texts().size(), 3u);
  secrets.push_back(marker("reply"));
  ASSERT_TRUE(bob->queue_text(alice_name, secrets.back()).ok());
  ASSERT_OK(bob->flush());
  ASSERT_OK(bob->set_disappearing_timer(alice_name, 3600));
  ASSERT_OK(bob->flush());
  ASSERT_OK(alice->sync());
  ASSERT_EQ(alice.texts().size(), 1u);
  alice.close();
  bob.close();
  ASSERT_EQ(server.process().terminate(), 0);  // flushes everything the server holds

  scanned = 0;
  for (const auto& secret : secrets) {
    EXPECT_TRUE(files_containing(data_dir, secret, &scanned).empty()) << secret;
    EXPECT_EQ(server.process().log().find(secret), std::string::npos) << "in the server log";
    EXPECT_TRUE(files_containing(alice.home(), secret, nullptr).empty()) << "in Alice's home";
    EXPECT_TRUE(files_containing(bob.home(), secret, nullptr).empty()) << "in Bob's home";
  }
  EXPECT_GT(scanned, 0u);
  // The scan can see what is really there: the server keeps usernames for lookups (the one
  // plaintext it needs), so they must show up, while the clients' databases show nothing.
  EXPECT_FALSE(files_containing(data_dir, bob_name, nullptr).empty());
  EXPECT_TRUE(files_containing(alice.home(), bob_name, nullptr).empty());
  EXPECT_EQ(server.process().log().find(bob_name), std::string::npos) << "a username was logged";
  std::printf("[ privacy  ] scanned %zu bytes of server data per marker pass; 0 plaintext hits\n",
              scanned / secrets.size());
}

}  // namespace
}  // namespace parley::e2e
