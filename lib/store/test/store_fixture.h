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

using Backends = ::testing::Types<MemoryBackend, RocksDbBackend>;

class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryBackend> ? "Memory" : "RocksDb";
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
