// SPDX-License-Identifier: AGPL-3.0-or-later
// Crash test: a child process appends acknowledged batches as fast as it can and reports each
// acknowledged dedupe key through a pipe; we SIGKILL it at a random moment, reopen the store and
// check that every acknowledged message is there exactly once in every recipient's mailbox.
//
// The child is this same test binary started afresh (fork + exec), so it owns a clean RocksDB
// with its own background threads rather than a forked copy of ours.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "store_fixture.h"

extern char** environ;

namespace parley::store::testing {
namespace {

constexpr const char* kChildDirEnv = "PARLEY_STORE_CRASH_CHILD_DIR";
constexpr const char* kChildFdEnv = "PARLEY_STORE_CRASH_CHILD_FD";
constexpr int kChildThreads = 4;

const std::vector<DeviceAddress>& recipients() {
  static const std::vector<DeviceAddress> all{address(1, 1), address(1, 2), address(2, 1)};
  return all;
}

// The child's work: never returns. Each thread appends one message to all recipients per
// request and, only after the store acknowledged it, writes the message number to the pipe
// (8-byte writes to a pipe are atomic).
[[noreturn]] void run_child(const char* dir, int fd) {
  auto store = RocksDbStore::open({.path = dir});
  if (!store.ok()) _exit(3);
  std::atomic<std::uint64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&] {
      while (true) {
        std::uint64_t n = next.fetch_add(1);
        std::string key = "m" + std::to_string(n);
        AppendRequest request;
        for (const DeviceAddress& to : recipients())
          request.envelopes.push_back(envelope_to(to, key));
        request.dedupe_key = to_bytes(key);
        request.now_ms = 1;
        if (!(*store)->append_messages(request).ok()) _exit(4);
        if (::write(fd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) _exit(5);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  _exit(6);
}

// Starts the child on `dir`; returns its pid and the read end of its pipe.
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
  std::string filter = "--gtest_filter=RocksDbCrashTest.*";
  char* argv[] = {self.data(), filter.data(), nullptr};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  // The child's own test banner would only clutter this test's output.
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, env.data()), 0);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Reads 8-byte message numbers from `fd` into `acked` until `deadline` (or EOF when none).
void read_acks(int fd, std::set<std::uint64_t>& acked, std::string& partial,
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
    if (got <= 0) return;  // EOF: the child is gone and the pipe is drained
    partial.append(buffer, static_cast<std::size_t>(got));
    std::size_t whole = partial.size() / 8 * 8;
    for (std::size_t i = 0; i < whole; i += 8) {
      std::uint64_t n;
      std::memcpy(&n, partial.data() + i, 8);
      acked.insert(n);
    }
    partial.erase(0, whole);
  }
}

TEST(RocksDbCrashTest, EveryAcknowledgedMessageSurvivesSigkillExactlyOnce) {
  // The test re-runs itself as the child process; the environment says so (read before any
  // thread starts).
  if (const char* dir = std::getenv(kChildDirEnv)) {  // NOLINT(concurrency-mt-unsafe)
    const char* fd = std::getenv(kChildFdEnv);        // NOLINT(concurrency-mt-unsafe)
    run_child(dir, fd == nullptr ? -1 : std::atoi(fd));
  }
  RocksDbBackend backend;
  {
    auto store = backend.open();
    ASSERT_TRUE(store->create_account(make_account(1)).ok());
    ASSERT_TRUE(store->create_account(make_account(2)).ok());
    ASSERT_TRUE(store->add_device(make_device(1, 1), 5).ok());
    ASSERT_TRUE(store->add_device(make_device(1, 2), 5).ok());
    ASSERT_TRUE(store->add_device(make_device(2, 1), 5).ok());
  }
  std::mt19937 random(std::random_device{}());
  std::set<std::uint64_t> acked;
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    // Each round's child numbers its messages from 0 again, so later rounds first retry what
    // earlier ones sent: the dedupe records written before the kill must answer those.
    auto [pid, fd] = spawn_child(backend.path());
    ASSERT_GT(pid, 0);
    std::string partial;
    auto run_for = std::chrono::milliseconds(300 + random() % 1200);
    read_acks(fd, acked, partial, std::chrono::steady_clock::now() + run_for);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited early with status " << status;
    read_acks(fd, acked, partial, std::nullopt);  // acks written just before the kill
    ::close(fd);
  }
  ASSERT_GT(acked.size(), 10u) << "the child acknowledged too little to test anything";
  RecordProperty("acknowledged_messages", static_cast<int>(acked.size()));

  auto store = backend.open();
  ASSERT_NE(store, nullptr);
  std::map<DeviceAddress, std::map<std::uint64_t, std::string>> mailboxes;  // seq → payload
  for (const DeviceAddress& to : recipients()) {
    auto messages = store->read_messages(to, 0, 10'000'000);
    ASSERT_TRUE(messages.ok()) << messages.status().to_string();
    std::set<std::string> payloads;
    std::uint64_t last_seq = 0;
    for (const StoredEnvelope& m : *messages) {
      EXPECT_GT(m.seq, last_seq);
      last_seq = m.seq;
      std::string payload(as_string_view(m.payload));
      EXPECT_TRUE(payloads.insert(payload).second) << "duplicate " << payload;
      mailboxes[to][m.seq] = payload;
    }
    EXPECT_EQ(*store->count_messages(to), messages->size());
  }
  for (std::uint64_t n : acked) {
    std::string key = "m" + std::to_string(n);
    AppendRequest retry;
    retry.envelopes = {envelope_to(address(1, 1), "retry")};
    retry.dedupe_key = to_bytes(key);
    auto result = store->append_messages(retry);
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result->duplicate) << key << " was acknowledged but is missing";
    ASSERT_EQ(result->copies.size(), recipients().size());
    for (const DeliveredCopy& copy : result->copies) {
      EXPECT_EQ(mailboxes[copy.recipient][copy.seq], key);
    }
  }
  // Numbering continues past everything the child wrote.
  AppendRequest after;
  after.envelopes = {envelope_to(address(1, 1), "after")};
  auto appended = store->append_messages(after);
  ASSERT_TRUE(appended.ok());
  EXPECT_GT(appended->copies[0].seq, mailboxes[address(1, 1)].rbegin()->first);
}

}  // namespace
}  // namespace parley::store::testing
