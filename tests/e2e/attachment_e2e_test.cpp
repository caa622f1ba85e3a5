// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Attachments against the real parleyd over TLS: a 10 MiB file through a proxy that cuts every
// connection after 200 KiB (like a censor's flow freeze) arrives byte-identical, sent and fetched
// with the `parley` CLI; a blob changed on the server's disk is refused with a clear error and
// leaves no file; and the server's data directory never holds the file's plaintext.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "dropping_proxy.h"
#include "e2e_support.h"
#include "parley/crypto/random.h"
#include "parley/util/encoding.h"

namespace parley::e2e {
namespace {

using client::Event;
using ::testing::HasSubstr;

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Random bytes with `marker` at the start, the middle and the end.
std::string make_file(const std::filesystem::path& path, std::size_t size,
                      const std::string& marker) {
  Bytes random = crypto::random_bytes(size);
  std::string content(random.begin(), random.end());
  for (std::size_t at : {std::size_t{0}, size / 2, size - marker.size()}) {
    content.replace(at, marker.size(), marker);
  }
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return content;
}

// Regular files under `dir` whose bytes contain `needle`.
std::vector<std::string> files_containing(const std::filesystem::path& dir,
                                          const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && read_file(entry.path()).find(needle) != std::string::npos) {
      hits.push_back(entry.path().string());
    }
  }
  return hits;
}

std::vector<std::filesystem::path> regular_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

std::string marker() {
  return "attachment-marker-" + hex_encode(crypto::random_bytes(8));
}

#ifdef PARLEY_CLI_PATH
TEST(AttachmentE2eTest, TenMiBThroughConnectionsCutEvery200KiBArrivesByteIdentical) {
  if (!std::filesystem::exists(PARLEY_CLI_PATH)) GTEST_SKIP() << "the parley CLI is not built";
  START_SERVER(server);
  DroppingProxy proxy(server.process().port(), 200UL * 1024);
  ASSERT_OK(proxy.start());
  TempDir home_a("parley-e2e-cli"), home_b("parley-e2e-cli"), files("parley-e2e-files"),
      out("parley-e2e-out");
  const std::string cli = PARLEY_CLI_PATH;
  // The clients know only the proxy; they still pin the real server's certificate.
  const std::string address = "127.0.0.1:" + std::to_string(proxy.port());
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), cli);
    return run_command(args, std::chrono::seconds(240));
  };
  for (const auto& [home, name] : {std::pair{&home_a, "alice"}, std::pair{&home_b, "bob"}}) {
    auto init = run({"--home", home->str(), "init", "--server", address, "--ca", server.cert_file(),
                     "--username", name});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  const std::string secret = marker();
  const std::filesystem::path source = files.path() / "ten-mebibytes.bin";
  std::string content = make_file(source, 10UL * 1024 * 1024, secret);

  auto started = std::chrono::steady_clock::now();
  std::uint64_t cuts_before = proxy.cuts();
  auto sent = run(
      {"--home", home_a.str(), "send-file", "bob", source.string(), "--caption", "ten mebibytes"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_THAT(sent.out, HasSubstr("sent ten-mebibytes.bin"));
  // stderr is not a terminal here: plain progress lines, the last one at 100%.
  EXPECT_THAT(sent.err, HasSubstr("parley: sending ten-mebibytes.bin: 100% (10.0 MiB of 10.0 MiB"));
  double upload_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::uint64_t upload_cuts = proxy.cuts() - cuts_before;
  const std::filesystem::path data_dir = server.process().data_dir();
  EXPECT_TRUE(files_containing(data_dir, secret).empty()) << "plaintext on the server";

  started = std::chrono::steady_clock::now();
  auto received = run({"--home", home_b.str(), "receive", "--out", out.str(), "--json"});
  ASSERT_EQ(received.exit_code, 0) << received.err;
  double download_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::uint64_t download_cuts = proxy.cuts() - cuts_before - upload_cuts;
  EXPECT_THAT(received.out, HasSubstr("\"text\":\"ten mebibytes\""));
  EXPECT_THAT(received.out, HasSubstr("\"file_name\":\"ten-mebibytes.bin\""));
  EXPECT_THAT(received.out, HasSubstr("\"event\":\"file_received\""));
  const std::filesystem::path saved = out.path() / "ten-mebibytes.bin";
  ASSERT_TRUE(std::filesystem::exists(saved)) << received.out;
  EXPECT_TRUE(read_file(saved) == content) << "the file differs";
  EXPECT_EQ(regular_files(out.path()).size(), 1u) << "partial files are cleaned up";

  // 10 MiB each way at 200 KiB per connection: dozens of cuts in each direction.
  EXPECT_GE(upload_cuts, 40u);
  EXPECT_GE(download_cuts, 40u);
  std::printf(
      "[ transfer ] 10 MiB through a proxy cutting every 200 KiB: upload %.1f s (%llu cuts), "
      "download %.1f s (%llu cuts), %llu connections\n",
      upload_seconds, static_cast<unsigned long long>(upload_cuts), download_seconds,
      static_cast<unsigned long long>(download_cuts),
      static_cast<unsigned long long>(proxy.connections()));

  ASSERT_EQ(server.process().terminate(), 0);  // flushes everything the server holds
  EXPECT_TRUE(files_containing(data_dir, secret).empty()) << "plaintext on the server";
  EXPECT_EQ(server.process().log().find(secret), std::string::npos);
  EXPECT_TRUE(files_containing(home_a.path(), secret).empty()) << "plaintext in the home";
  EXPECT_TRUE(files_containing(home_b.path(), secret).empty()) << "plaintext in the home";
}
#else
TEST(AttachmentE2eTest, TenMiBThroughConnectionsCutEvery200KiBArrivesByteIdentical) {
  GTEST_SKIP() << "the parley CLI target is not part of this build";
}
#endif

TEST(AttachmentE2eTest, ABlobChangedOnTheServersDiskIsRefusedAndLeavesNoFile) {
  START_SERVER(server);
  Device alice(server), bob(server);
  ASSERT_OK(alice.sign_up("alice"));
  ASSERT_OK(bob.sign_up("bob"));
  TempDir files("parley-e2e-files"), out("parley-e2e-out");
  const std::string secret = marker();
  make_file(files.path() / "contract.pdf", 1024UL * 1024, secret);
  auto id = alice->queue_file("bob", files.path() / "contract.pdf", "please sign");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  ASSERT_OK(alice->flush());

  // The one blob on the server's disk: flip one byte in the middle of the ciphertext.
  const std::filesystem::path data_dir = server.process().data_dir();
  std::vector<std::filesystem::path> blobs;
  for (const auto& file : regular_files(data_dir)) {
    if (file.extension() == ".blob") blobs.push_back(file);
  }
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_TRUE(files_containing(data_dir, secret).empty()) << "plaintext on the server";
  {
    std::fstream blob(blobs[0], std::ios::binary | std::ios::in | std::ios::out);
    blob.seekg(512L * 1024);
    char byte = 0;
    blob.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x20);
    blob.seekp(512L * 1024);
    blob.write(&byte, 1);
  }

  bob->set_download_dir(out.path());
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.texts().size(), 1u);
  EXPECT_EQ(bob.count(Event::Kind::kFileReceived), 0u);
  ASSERT_EQ(bob.count(Event::Kind::kWarning), 1u);
  for (const Event& event : bob.events()) {
    if (event.kind != Event::Kind::kWarning) continue;
    EXPECT_EQ(event.code, ErrorCode::kBadMac) << event.body;
    EXPECT_THAT(event.body, HasSubstr("does not verify"));
  }
  EXPECT_TRUE(regular_files(out.path()).empty()) << "no plaintext and no partial file left";
  auto view = bob->attachment("alice", *id);
  ASSERT_TRUE(view.ok() && view->has_value()) << view.status().to_string();
  EXPECT_EQ((*view)->state, client::AttachmentView::State::kFailed);
  // Not retried: the next sync stays quiet.
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.count(Event::Kind::kWarning), 1u);
}

}  // namespace
}  // namespace parley::e2e
