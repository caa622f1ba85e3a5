// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Direct access to a closed RocksDbStore directory, for tests that must look under the interface:
// scanning every key, planting values an old or foreign writer might have left.

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "../src/rocksdb_impl.h"

namespace parley::store::testing {

struct RawEntry {
  std::string column_family;
  std::string key;
  std::string value;
};

class RawRocksDb {
 public:
  explicit RawRocksDb(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::Status status = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
    EXPECT_TRUE(status.ok()) << status.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) {
      rocksdb::ColumnFamilyOptions options;
      // Counts of shared payloads are updated by merges; without the operator they read wrong.
      if (name == "shared_payloads") options.merge_operator = reference_count_merge_operator();
      descriptors.emplace_back(name, options);
    }
    rocksdb::DB* db = nullptr;
    status = rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles_, &db);
    EXPECT_TRUE(status.ok()) << status.ToString();
    db_.reset(db);
  }
  ~RawRocksDb() {
    if (!db_) return;
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close().PermitUncheckedError();
  }

  std::vector<RawEntry> scan_all() {
    std::vector<RawEntry> out;
    for (auto* handle : handles_) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        out.push_back({handle->GetName(), it->key().ToString(), it->value().ToString()});
      }
      EXPECT_TRUE(it->status().ok());
    }
    return out;
  }

  void put(const std::string& column_family, const std::string& key, const std::string& value) {
    for (auto* handle : handles_) {
      if (handle->GetName() != column_family) continue;
      rocksdb::WriteOptions options;
      options.sync = true;
      ASSERT_TRUE(db_->Put(options, handle, key, value).ok());
      return;
    }
    ADD_FAILURE() << "no column family " << column_family;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace parley::store::testing
