// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Disk faults under the real parleyd.
// - Full disk: the store lives on a 32 MiB tmpfs that a filler file fills up. Sends are refused
//   with 402 storage_full and a clear message, the server stays up, a signed-in device still gets
//   what was queued before, /healthz answers, and once the filler is gone sends work again in the
//   same process (no restart).
// - Corrupted store: a damaged CURRENT, MANIFEST or table file makes parleyd exit non-zero at
//   start, quickly, with a message naming the store directory and the corruption.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <thread>

#include "chaos_support.h"
#include "parleyd_process.h"

namespace parley::chaos {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using testing::ParleydProcess;
using testing::ProtoClient;
using testing::TestAccount;

// A tmpfs of `size` mounted on `dir` for the object's lifetime (unmounted on every path out).
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& dir, const std::string& size) : dir_(dir) {
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::generic_category().message(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `file` until the file system says it is full; returns the bytes written.
std::size_t fill_up(const fs::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::string block(64UL * 1024, 'f');
  std::size_t written = 0;
  for (;;) {
    ssize_t n = ::write(fd, block.data(), block.size());
    if (n <= 0) break;  // ENOSPC
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return written;
}

Result<wire::Response> send_text(ProtoClient& client, const TestAccount& to, const std::string& id,
                                 std::size_t size = 200) {
  return client.send_message(to.account_id, "diskfull-" + id, {{1, Bytes(size, 0x42)}});
}

TEST(DiskFaultTest, FullDiskRefusesSendsKeepsDeliveringAndRecoversWithoutRestart) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (euid " << ::geteuid() << ")";
  TempDir base("parley-chaos-disk");
  fs::create_directories(base.path() / "disk");
  TmpfsMount disk(base.path() / "disk", "32m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << disk.error();
  // Only the store is on the small disk; the log, config and certificate stay on the big one so
  // that the test can read what parleyd says.
  fs::create_directories(base.path() / "disk" / "store");
  fs::create_directories(base.path() / "data");
  fs::create_directory_symlink(base.path() / "disk" / "store", base.path() / "data" / "store");

  ParleydProcess server((base.path() / "data").string());
  Status started = server.start();
  ASSERT_TRUE(started.ok()) << started.to_string();
  ProtoClient sender(server.port()), receiver(server.port());
  ASSERT_TRUE(sender.connect().ok());
  ASSERT_TRUE(receiver.connect().ok());
  auto alice = sender.register_account();
  ASSERT_TRUE(alice.ok()) << alice.status().to_string();
  auto bob = receiver.register_account();
  ASSERT_TRUE(bob.ok()) << bob.status().to_string();
  ASSERT_TRUE(sender.authenticate(*alice).ok());

  // Queued while Bob is offline: these must still reach him once the disk is full.
  constexpr int kQueued = 20;
  for (int i = 0; i < kQueued; ++i) {
    auto sent = send_text(sender, *bob, "before-" + std::to_string(i));
    ASSERT_TRUE(sent.ok()) << sent.status().to_string();
    ASSERT_EQ(sent->status(), 0u) << sent->message();
  }

  const fs::path filler = base.path() / "disk" / "filler";
  const std::size_t filled = fill_up(filler);
  ASSERT_GT(filled, 0u);
  std::printf("[ disk     ] tmpfs 32 MiB, filler %zu bytes\n", filled);

  // Sends are refused with storage_full and words an operator and a user understand.
  auto refused = send_text(sender, *bob, "refused");
  ASSERT_TRUE(refused.ok()) << "the server must answer, not drop: " << refused.status().to_string();
  EXPECT_EQ(refused->status(), 402u) << refused->message();
  std::printf("[ disk     ] send on a full disk: status %u \"%s\"\n", refused->status(),
              refused->message().c_str());
  EXPECT_NE(refused->message().find("space"), std::string::npos) << refused->message();
  // A second refusal: the server is not wedged by the first.
  auto refused_again = send_text(sender, *bob, "refused-again", 10'000);
  ASSERT_TRUE(refused_again.ok()) << refused_again.status().to_string() << "\n" << server.log();
  EXPECT_EQ(refused_again->status(), 402u) << refused_again->message();

  // Reads go on: Bob signs in and gets everything queued before the disk filled up.
  auto queued = receiver.authenticate(*bob);
  ASSERT_TRUE(queued.ok()) << "sign-in on a full disk: " << queued.status().to_string();
  EXPECT_EQ(*queued, static_cast<std::uint64_t>(kQueued));
  std::vector<std::uint64_t> seqs;
  for (;;) {
    auto push = receiver.next_push(10s);
    ASSERT_TRUE(push.ok()) << "drain on a full disk: " << push.status().to_string();
    if (push->has_queue_empty()) break;
    if (push->has_message()) seqs.push_back(push->message().seq());
  }
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kQueued));
  auto health = testing::http_get("127.0.0.1", server.admin_port(), "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().to_string();
  EXPECT_EQ(health->status, 200);

  // Space returns: the same process takes writes again, the refused message included.
  std::error_code ec;
  fs::remove(filler, ec);
  ASSERT_FALSE(ec) << ec.message();
  auto retried = send_text(sender, *bob, "refused");
  ASSERT_TRUE(retried.ok()) << retried.status().to_string();
  EXPECT_EQ(retried->status(), 0u) << "after space returned: " << retried->message();
  EXPECT_TRUE(receiver.ack(seqs).ok());
  auto live = receiver.next_push(10s);
  ASSERT_TRUE(live.ok()) << "the message sent after recovery: " << live.status().to_string();
  EXPECT_TRUE(live->has_message());
  auto after = send_text(sender, *bob, "after");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status(), 0u) << after->message();
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

// A small store with table files: messages written, then two clean restarts so that RocksDB
// flushes what it recovered from its log into SST files.
class CorruptStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pristine_ = new TempDir("parley-chaos-corrupt");
    ParleydProcess server(pristine_->str());
    ASSERT_TRUE(server.start().ok());
    ProtoClient client(server.port()), other(server.port());
    ASSERT_TRUE(client.connect().ok());
    ASSERT_TRUE(other.connect().ok());
    auto account = client.register_account();
    ASSERT_TRUE(account.ok());
    auto recipient = other.register_account();
    ASSERT_TRUE(recipient.ok());
    ASSERT_TRUE(client.authenticate(*account).ok());
    for (int i = 0; i < 200; ++i) {
      auto sent = send_text(client, *recipient, std::to_string(i), 2000);
      ASSERT_TRUE(sent.ok()) << sent.status().to_string();
      ASSERT_EQ(sent->status(), 0u) << sent->message();
    }
    ASSERT_EQ(server.terminate(), 0);
    ASSERT_TRUE(server.start().ok());
    ASSERT_EQ(server.terminate(), 0);
  }
  static void TearDownTestSuite() {
    delete pristine_;
    pristine_ = nullptr;
  }

  // A copy of the pristine data directory with `damage` applied to its store.
  void copy_store() {
    ASSERT_NE(pristine_, nullptr);
    fs::copy(pristine_->path(), data_.path(), fs::copy_options::recursive);
  }
  fs::path store() const { return data_.path() / "store"; }

  fs::path largest(const std::string& extension) const {
    fs::path best;
    std::uintmax_t best_size = 0;
    for (const auto& entry : fs::directory_iterator(store())) {
      if (entry.path().extension() != extension) continue;
      if (entry.file_size() > best_size) best = entry.path(), best_size = entry.file_size();
    }
    return best;
  }

  // Overwrites `count` bytes in the middle of `file`.
  static void scribble(const fs::path& file, std::size_t count) {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::size_t>(fs::file_size(file));
    out.seekp(static_cast<std::streamoff>(size / 2 - std::min(size / 2, count / 2)));
    std::string junk(std::min(count, size), '\x5a');
    out.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }

  // Runs parleyd on the damaged copy; it must exit non-zero within seconds and say why.
  void expect_refused_start(const std::string& what) {
    const fs::path out = data_.path() / "stdout.txt", err = data_.path() / "stderr.txt";
    auto begin = std::chrono::steady_clock::now();
    ChildProcess parleyd({testing::parleyd_binary(), "serve", "--data-dir", data_.str(), "--listen",
                          "127.0.0.1:0", "--admin", "off", "--pow-difficulty", "0"},
                         out.string(), err.string());
    ASSERT_TRUE(parleyd.started());
    const int code = parleyd.wait(20s);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    const std::string log = read_text(out) + read_text(err);
    std::printf("[ corrupt  ] %s: exit %d after %.2f s\n", what.c_str(), code, seconds);
    (void)std::fflush(stdout);
    EXPECT_GT(code, 0) << what << ": parleyd must refuse to start (-1 = crashed or still running)\n"
                       << log;
    EXPECT_NE(log.find(store().string()), std::string::npos)
        << what << ": the message names the store directory\n"
        << log;
    EXPECT_NE(log.find("orrupt"), std::string::npos) << what << ": the message says corruption\n"
                                                     << log;
    const std::size_t line = log.find("cannot open the store");
    if (line != std::string::npos) {
      std::printf("[ corrupt  ] %s\n", log.substr(line, log.find('\n', line) - line).c_str());
    }
  }

  static TempDir* pristine_;
  TempDir data_{"parley-chaos-corrupt-copy"};
};

TempDir* CorruptStoreTest::pristine_ = nullptr;

TEST_F(CorruptStoreTest, DamagedTableFileStopsTheStart) {
  copy_store();
  const fs::path table = largest(".sst");
  ASSERT_FALSE(table.empty()) << "no table file: the setup did not flush";
  scribble(table, 64);
  expect_refused_start("SST " + table.filename().string());
}

TEST_F(CorruptStoreTest, DamagedManifestStopsTheStart) {
  copy_store();
  fs::path manifest;
  for (const auto& entry : fs::directory_iterator(store())) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) manifest = entry.path();
  }
  ASSERT_FALSE(manifest.empty());
  scribble(manifest, 32);
  expect_refused_start(manifest.filename().string());
}

TEST_F(CorruptStoreTest, DamagedCurrentStopsTheStart) {
  copy_store();
  std::ofstream(store() / "CURRENT", std::ios::trunc) << "\x01\x02garbage";
  expect_refused_start("CURRENT");
}

}  // namespace
}  // namespace parley::chaos
