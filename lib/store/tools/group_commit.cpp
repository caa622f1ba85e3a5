// SPDX-License-Identifier: AGPL-3.0-or-later
// Measures group commit of RocksDbStore: N threads append synced single-message batches to their
// own mailboxes for a few seconds, then the program prints messages per WAL fsync.
//
//   parley_store_group_commit [threads=16] [seconds=5] [directory=<new temp dir>]

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "parley/store/rocksdb_store.h"

using namespace parley;
using namespace parley::store;

namespace {

AccountId account_for(int thread) {
  AccountId id{};
  id[0] = 0xbe;
  id[14] = static_cast<std::uint8_t>(thread >> 8);
  id[15] = static_cast<std::uint8_t>(thread);
  return id;
}

int fail(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 16;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string dir;
  bool remove_dir = false;
  if (argc > 3) {
    dir = argv[3];
  } else {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "parley-group-commit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return 1;
    dir = pattern;
    remove_dir = true;
  }
  if (threads < 1 || threads > 4096 || seconds < 1) {
    std::fprintf(stderr, "usage: %s [threads] [seconds] [directory]\n", argv[0]);
    return 2;
  }
  int code = 0;
  {
    auto opened = RocksDbStore::open({.path = dir + "/db"});
    if (!opened.ok()) return fail(opened.status());
    RocksDbStore& store = **opened;
    for (int t = 0; t < threads; ++t) {
      Account account{account_for(t), Bytes(33, 1), std::nullopt, 0, {}};
      account.identity_key[32] = static_cast<std::uint8_t>(t);
      account.identity_key[31] = static_cast<std::uint8_t>(t >> 8);
      if (Status s = store.create_account(account); !s.ok()) return fail(s);
      if (Status s = store.add_device({account.id, 1, Bytes(33, 2), 1, 0, 0}, 1); !s.ok()) {
        return fail(s);
      }
    }
    StoreStats before = store.stats();
    std::atomic<bool> stop{false};
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        AppendRequest request;
        request.envelopes = {NewEnvelope{{account_for(t), 1}, std::nullopt, 0, Bytes(200, 0x42)}};
        while (!stop.load(std::memory_order_relaxed)) {
          if (!store.append_messages(request).ok()) errors.fetch_add(1);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop = true;
    for (std::thread& worker : workers) worker.join();
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    StoreStats after = store.stats();
    std::uint64_t messages = after.envelopes_written - before.envelopes_written;
    std::uint64_t syncs = after.wal_syncs - before.wal_syncs;
    std::printf(
        "threads=%d seconds=%.1f messages=%llu wal_fsyncs=%llu messages_per_fsync=%.2f "
        "messages_per_second=%.0f writes_by_leader=%llu writes_by_follower=%llu "
        "fsync_us_p50=%.0f fsync_us_p99=%.0f errors=%d\n",
        threads, elapsed, static_cast<unsigned long long>(messages),
        static_cast<unsigned long long>(syncs),
        syncs == 0 ? 0.0 : static_cast<double>(messages) / static_cast<double>(syncs),
        static_cast<double>(messages) / elapsed,
        static_cast<unsigned long long>(after.writes_done_by_leader - before.writes_done_by_leader),
        static_cast<unsigned long long>(after.writes_done_by_other - before.writes_done_by_other),
        after.wal_sync_micros_median, after.wal_sync_micros_p99, errors.load());
    code = errors.load() == 0 ? 0 : 1;
  }
  if (remove_dir) std::filesystem::remove_all(dir);
  return code;
}
