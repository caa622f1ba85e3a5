// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The conformance fixture: every typed test runs once per backend. A backend type opens a fresh,
// empty store; persistent backends can also close and reopen it and list their raw keys.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "parley/store/memory_store.h"
#include "parley/store/rocksdb_store.h"
#include "parley/store/store.h"
#ifdef PARLEY_STORE_TEST_POSTGRES
#include "parley/store/pg_store.h"
#include "parley/store/sharded_store.h"
#include "postgres_process.h"
#endif

namespace parley::store::testing {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "parley-store-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct MemoryBackend {
  static constexpr bool kPersistent = false;
  std::unique_ptr<Store> open() { return std::make_unique<MemoryStore>(); }
};

struct RocksDbBackend {
  static constexpr bool kPersistent = true;
  TempDir dir;
  std::string path() const { return (dir.path() / "db").string(); }
  std::unique_ptr<Store> open() {
    auto store = RocksDbStore::open({.path = path()});
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

#ifdef PARLEY_STORE_TEST_POSTGRES
// parley_store_pg_test compiles these same suites against PostgreSQL only: a fresh database per
// test on one real server per test program (postgres_process.h).
struct PgBackend {
  static constexpr bool kPersistent = true;
  std::string conninfo = fresh_database_conninfo();
  std::unique_ptr<Store> open() {
    EXPECT_FALSE(conninfo.empty()) << shared_postgres().failure();
    if (conninfo.empty()) return nullptr;
    auto store = PgStore::open({.conninfo = conninfo});
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

// The same suites through a ShardedStore over two servers (evenly mapped), so that the
// accounts of one test land on both.
struct ShardedPgBackend {
  static constexpr bool kPersistent = true;
  std::string conninfo[2] = {fresh_database_conninfo(0), fresh_database_conninfo(1)};
  std::unique_ptr<Store> open() {
    std::vector<std::unique_ptr<Store>> backends;
    for (const std::string& info : conninfo) {
      EXPECT_FALSE(info.empty()) << shared_postgres(0).failure() << shared_postgres(1).failure();
      if (info.empty()) return nullptr;
      auto store = PgStore::open({.conninfo = info});
      EXPECT_TRUE(store.ok()) << store.status().to_string();
      if (!store.ok()) return nullptr;
      backends.push_back(std::move(store).value());
    }
    return std::make_unique<ShardedStore>(std::move(backends), ShardMap::evenly(2));
  }
};

using Backends = ::testing::Types<PgBackend, ShardedPgBackend>;
// Fan-out by reference is counted per backend on a sharded store (one stored copy per backend
// that holds a recipient), so the shared-payload suite, which counts copies, runs on PgStore
// alone; sharded_store_test.cpp checks the sharded behaviour.
using SingleStoreBackends = ::testing::Types<PgBackend>;
#else
using Backends = ::testing::Types<MemoryBackend, RocksDbBackend>;
using SingleStoreBackends = Backends;
#endif

// True for a store that spreads one test's accounts over several backends (sharded_store.h says
// what differs).
template <typename Backend>
inline constexpr bool kSpreadOverBackends = false;
#ifdef PARLEY_STORE_TEST_POSTGRES
template <>
inline constexpr bool kSpreadOverBackends<ShardedPgBackend> = true;
#endif

class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBackend>) return "Memory";
    if (std::is_same_v<T, RocksDbBackend>) return "RocksDb";
#ifdef PARLEY_STORE_TEST_POSTGRES
    if (std::is_same_v<T, ShardedPgBackend>) return "ShardedPostgres";
#endif
    return "Postgres";
  }
};

inline AccountId account_id(std::uint8_t n) {
  AccountId id{};
  id[0] = 0xa0;
  id[15] = n;
  return id;
}

inline Account make_account(std::uint8_t n, std::optional<std::string> username = std::nullopt) {
  Account account;
  account.id = account_id(n);
  account.identity_key = Bytes(33, n);
  account.identity_key[0] = 0x05;
  account.username = std::move(username);
  account.created_ms = 1'767'225'600'000 + n;
  account.signed_device_list = {0xd1, n};
  return account;
}

inline Device make_device(std::uint8_t account, DeviceId device_id) {
  Device device;
  device.account_id = account_id(account);
  device.device_id = device_id;
  device.public_key = Bytes(33, static_cast<std::uint8_t>(device_id));
  device.registration_id = 1000 + device_id;
  device.created_ms = 1'767'225'600'000;
  device.last_seen_ms = device.created_ms;
  return device;
}

inline DeviceAddress address(std::uint8_t account, DeviceId device_id) {
  return {account_id(account), device_id};
}

inline NewEnvelope envelope_to(const DeviceAddress& recipient, std::string_view payload,
                               std::int64_t timestamp_ms = 1000) {
  return NewEnvelope{recipient, address(99, 1), timestamp_ms, to_bytes(payload)};
}

template <typename Backend>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = backend_.open();
    ASSERT_NE(store_, nullptr);
  }

  Store& store() { return *store_; }

  // Closes and reopens a persistent store (a restart).
  void reopen() {
    store_.reset();
    store_ = backend_.open();
    ASSERT_NE(store_, nullptr);
  }

  // Creates account `n` with devices 1..`devices`.
  void create_account_with_devices(std::uint8_t n, DeviceId devices,
                                   std::optional<std::string> username = std::nullopt) {
    ASSERT_TRUE(store().create_account(make_account(n, std::move(username))).ok());
    for (DeviceId d = 1; d <= devices; ++d) {
      ASSERT_TRUE(store().add_device(make_device(n, d), 10).ok());
    }
  }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

}  // namespace parley::store::testing
