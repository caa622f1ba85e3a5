// SPDX-License-Identifier: AGPL-3.0-or-later
// What the parley_server_bench files share: the message size, random test data, accounts in a
// store, temporary directories, a synced RocksDbStore with ready accounts, the fsync counters and
// the paired (alternating) loop. Small helpers that run inside timed loops are inline here, so
// splitting the program into files did not move them out of reach of the optimiser.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/store/rocksdb_store.h"
#include "parley/store/store.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::bench {

constexpr std::size_t kCiphertextBytes = 300;

inline std::string to_field(ByteView bytes) {
  return std::string(as_string_view(bytes));
}

inline void put_u64_be(std::uint8_t* out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
}

store::AccountId random_account_id();

// A 33-byte 0x05-prefixed value: unique per account, which the identity-key index requires.
Bytes random_identity_key();

// Creates the account and its device 1 (the store refuses appends to unknown devices).
Status add_account(store::Store& store, const store::AccountId& id, Bytes device_key);

// A fresh directory under $TMPDIR, removed with everything in it when this goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A RocksDbStore in a fresh directory. Accounts are created with sync off (setup, not measured:
// a thousand synced creations would take seconds per run), then the store is reopened with
// synced writes as in production.
class BenchStore {
 public:
  // `accounts` accounts with device 1 each.
  explicit BenchStore(std::size_t accounts);

  bool ok() const { return store_ != nullptr; }
  const std::string& error() const { return error_; }
  store::RocksDbStore& store() { return *store_; }
  const store::DeviceAddress& device(std::size_t i) const { return devices_[i]; }
  std::size_t devices() const { return devices_.size(); }

 private:
  TempDir dir_;
  std::string error_;
  std::vector<store::DeviceAddress> devices_;
  std::unique_ptr<store::RocksDbStore> store_;
};

// The disk as this run saw it: WAL fsync latency (median and p99, µs) and writes per fsync.
void report_fsyncs(benchmark::State& state, const store::StoreStats& before,
                   const store::StoreStats& after);

// This thread's CPU time (user + system, including the fsync system calls).
inline std::chrono::nanoseconds thread_cpu_now() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

// Both sides of a pair in ONE loop, one operation each per iteration, each timed on its own (wall
// clock; the order flips every iteration). A slow spell of a disk other jobs share then hits both
// sides alike, so the ratio holds even when the absolute times of the separate rows swing.
// Counters: parley_us and peer_us (wall) per operation, ratio = parley / peer; the same in this
// thread's CPU time: parley_cpu_us, peer_cpu_us, cpu_ratio.
template <typename Parley, typename Peer>
void run_paired(benchmark::State& state, Parley&& parley, Peer&& peer) {
  using Clock = std::chrono::steady_clock;
  Clock::duration wall[2]{};          // [0] Parley, [1] the peer
  std::chrono::nanoseconds cpu[2]{};  // the same in this thread's CPU time
  bool parley_first = true;
  for (auto _ : state) {
    bool ok = true;
    for (int half = 0; half < 2 && ok; ++half) {
      const int side = (half == 0) == parley_first ? 0 : 1;
      auto start = Clock::now();
      auto start_cpu = thread_cpu_now();
      ok = side == 0 ? parley() : peer();
      cpu[side] += thread_cpu_now() - start_cpu;
      wall[side] += Clock::now() - start;
    }
    if (!ok) break;  // the failing side called SkipWithError
    parley_first = !parley_first;
  }
  const double n = static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
  auto us = [n](auto duration) {
    return std::chrono::duration<double, std::micro>(duration).count() / n;
  };
  state.counters["parley_us"] = us(wall[0]);
  state.counters["peer_us"] = us(wall[1]);
  if (us(wall[1]) > 0) state.counters["ratio"] = us(wall[0]) / us(wall[1]);
  state.counters["parley_cpu_us"] = us(cpu[0]);
  state.counters["peer_cpu_us"] = us(cpu[1]);
  if (us(cpu[1]) > 0) state.counters["cpu_ratio"] = us(cpu[0]) / us(cpu[1]);
}

}  // namespace parley::bench
