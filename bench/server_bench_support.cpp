// SPDX-License-Identifier: AGPL-3.0-or-later
// The setup parley_server_bench's files share (server_bench_support.h): random accounts,
// temporary directories, the synced RocksDbStore with ready accounts and the fsync counters.
// None of it runs inside a timed loop.
#include "server_bench_support.h"

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "parley/crypto/random.h"

namespace parley::bench {

store::AccountId random_account_id() {
  store::AccountId id{};
  crypto::fill_random(id);
  return id;
}

Bytes random_identity_key() {
  Bytes key = crypto::random_bytes(33);
  key[0] = 0x05;
  return key;
}

Status add_account(store::Store& store, const store::AccountId& id, Bytes device_key) {
  PARLEY_RETURN_IF_ERROR(store.create_account({id, random_identity_key(), std::nullopt, 0, {}}));
  return store.add_device({id, store::kPrimaryDeviceId, std::move(device_key), 1, 0, 0}, 16);
}

TempDir::TempDir() {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) return;  // ok() is false: the benchmark reports it
  std::string pattern = (base / "parley-server-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

BenchStore::BenchStore(std::size_t accounts) {
  if (!dir_.ok()) {
    error_ = "cannot create a temporary directory";
    return;
  }
  store::RocksDbOptions options{.path = dir_.path() + "/db"};
  {
    options.sync_writes = false;
    auto setup = store::RocksDbStore::open(options);
    if (!setup.ok()) {
      error_ = "open: " + setup.status().to_string();
      return;
    }
    for (std::size_t i = 0; i < accounts; ++i) {
      store::AccountId id = random_account_id();
      if (Status s = add_account(**setup, id, random_identity_key()); !s.ok()) {
        error_ = "setup: " + s.to_string();
        return;
      }
      devices_.push_back({id, store::kPrimaryDeviceId});
    }
  }
  options.sync_writes = true;
  auto opened = store::RocksDbStore::open(options);
  if (!opened.ok()) {
    error_ = "reopen: " + opened.status().to_string();
    return;
  }
  store_ = std::move(*opened);
}

void report_fsyncs(benchmark::State& state, const store::StoreStats& before,
                   const store::StoreStats& after) {
  auto syncs = static_cast<double>(after.wal_syncs - before.wal_syncs);
  if (syncs == 0) return;
  state.counters["writes_per_fsync"] =
      static_cast<double>(after.mutations - before.mutations) / syncs;
  state.counters["fsync_us_p50"] = after.wal_sync_micros_median;
  state.counters["fsync_us_p99"] = after.wal_sync_micros_p99;
}

}  // namespace parley::bench
