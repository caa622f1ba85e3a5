// SPDX-License-Identifier: AGPL-3.0-or-later
// Crash test for FileBlobStore: a child process uploads one large blob chunk by chunk and reports
// every acknowledged `received` count through a pipe; we SIGKILL it at a random moment, reopen
// the store and check that the upload resumes at or after the last acknowledged byte and that the
// finished blob is exactly the bytes sent. The child is this test binary started afresh.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "parley/store/file_blob_store.h"
#include "store_fixture.h"

extern char** environ;

namespace parley::store::testing {
namespace {

constexpr const char* kChildDirEnv = "PARLEY_BLOB_CRASH_CHILD_DIR";
constexpr const char* kChildFdEnv = "PARLEY_BLOB_CRASH_CHILD_FD";
constexpr std::int64_t kNow = 1'767'225'600'000;
constexpr std::uint64_t kSize = 4u << 20;
constexpr std::size_t kChunk = 4096;

BlobId the_blob() {
  BlobId id{};
  id.fill(0xcb);
  return id;
}

Bytes chunk_at(std::uint64_t offset, std::size_t count) {
  Bytes out(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t at = offset + i;
    out[i] = static_cast<std::uint8_t>((at * 131) ^ (at >> 9));
  }
  return out;
}

// Uploads from wherever the store stands; reports each acknowledged count. Never returns.
[[noreturn]] void run_child(const char* dir, int fd) {
  auto blobs = FileBlobStore::open(dir);
  if (!blobs.ok()) _exit(3);
  auto info = (*blobs)->status(the_blob(), kNow);
  if (!info.ok()) _exit(4);
  for (std::uint64_t offset = info->received; offset < kSize; offset += kChunk) {
    std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, kSize - offset));
    auto after = (*blobs)->append(the_blob(), account_id(1), offset, chunk_at(offset, count), kNow);
    if (!after.ok()) _exit(5);
    std::uint64_t received = after->received;
    if (::write(fd, &received, sizeof received) != static_cast<ssize_t>(sizeof received)) _exit(6);
  }
  _exit(0);
}

std::pair<pid_t, int> spawn_child(const std::string& dir) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::string dir_env = std::string(kChildDirEnv) + "=" + dir;
  std::string fd_env = std::string(kChildFdEnv) + "=" + std::to_string(fds[1]);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(dir_env.data());
  env.push_back(fd_env.data());
  env.push_back(nullptr);
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=FileBlobCrashTest.*";
  char* argv[] = {self.data(), filter.data(), nullptr};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, env.data()), 0);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  return {pid, fds[0]};
}

// The highest count read from `fd` until `deadline` (or EOF when none).
void read_acks(int fd, std::uint64_t& highest, std::string& partial,
               std::optional<std::chrono::steady_clock::time_point> deadline) {
  char buffer[4096];
  while (true) {
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    }
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got <= 0) return;
    partial.append(buffer, static_cast<std::size_t>(got));
    std::size_t whole = partial.size() / 8 * 8;
    for (std::size_t i = 0; i < whole; i += 8) {
      std::uint64_t n;
      std::memcpy(&n, partial.data() + i, 8);
      highest = std::max(highest, n);
    }
    partial.erase(0, whole);
  }
}

TEST(FileBlobCrashTest, AcknowledgedChunksSurviveSigkillAndTheUploadResumes) {
  // The test re-runs itself as the child process; the environment says so (read before any
  // thread starts).
  if (const char* dir = std::getenv(kChildDirEnv)) {  // NOLINT(concurrency-mt-unsafe)
    const char* fd = std::getenv(kChildFdEnv);        // NOLINT(concurrency-mt-unsafe)
    run_child(dir, fd == nullptr ? -1 : std::atoi(fd));
  }
  TempDir dir;
  const std::string path = (dir.path() / "blobs").string();
  {
    auto blobs = FileBlobStore::open(path);
    ASSERT_TRUE(blobs.ok());
    BlobLimits limits;
    ASSERT_TRUE((*blobs)->create(the_blob(), account_id(1), kSize, kNow, kNow + 1000, limits).ok());
  }
  std::mt19937 random(std::random_device{}());
  std::uint64_t acked = 0;
  for (int round = 0; round < 3; ++round) {
    auto [pid, fd] = spawn_child(path);
    ASSERT_GT(pid, 0);
    std::string partial;
    read_acks(fd, acked, partial,
              std::chrono::steady_clock::now() + std::chrono::milliseconds(100 + random() % 400));
    ::kill(pid, SIGKILL);  // may have finished already: then it exited 0
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "child failed with status " << status;
    read_acks(fd, acked, partial, std::nullopt);
    ::close(fd);

    auto blobs = FileBlobStore::open(path);
    ASSERT_TRUE(blobs.ok());
    auto info = (*blobs)->status(the_blob(), kNow);
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    EXPECT_GE(info->received, acked) << "an acknowledged chunk was lost";
    EXPECT_EQ((*blobs)->stats().quarantined, 0u);
  }
  ASSERT_GT(acked, 0u) << "the child acknowledged nothing";
  RecordProperty("acknowledged_bytes", static_cast<int>(acked));

  // Finish the upload here and check every byte.
  auto blobs = FileBlobStore::open(path);
  ASSERT_TRUE(blobs.ok());
  std::uint64_t received = (*blobs)->status(the_blob(), kNow)->received;
  for (std::uint64_t offset = received; offset < kSize; offset += 1u << 16) {
    std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(1u << 16, kSize - offset));
    ASSERT_TRUE(
        (*blobs)->append(the_blob(), account_id(1), offset, chunk_at(offset, count), kNow).ok());
  }
  for (std::uint64_t offset = 0; offset < kSize; offset += 1u << 16) {
    auto part = (*blobs)->read(the_blob(), offset, 1u << 16, kNow);
    ASSERT_TRUE(part.ok()) << part.status().to_string();
    ASSERT_EQ(*part, chunk_at(offset, part->size())) << "at offset " << offset;
  }
}

}  // namespace
}  // namespace parley::store::testing
