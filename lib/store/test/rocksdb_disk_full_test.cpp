// SPDX-License-Identifier: AGPL-3.0-or-later
// A full disk: RocksDB's "no space" failures reach the caller as kStorageFull, nothing of the
// refused write is visible, and what was acknowledged before is intact after a restart; below the
// reserved free space, writes are refused before RocksDB runs out.

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <limits>

#include "../src/rocksdb_impl.h"
#include "store_fixture.h"

namespace parley::store::testing {
namespace {

// Every file write fails with ENOSPC-equivalent "no space" while `full` is set.
class FullDiskFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FullDiskFile(std::unique_ptr<rocksdb::FSWritableFile> file, const std::atomic<bool>* full)
      : FSWritableFileOwnerWrapper(std::move(file)), full_(full) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (full_->load()) return rocksdb::IOStatus::NoSpace("test disk is full");
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (full_->load()) return rocksdb::IOStatus::NoSpace("test disk is full");
    return target()->Append(data, options, info, dbg);
  }

 private:
  const std::atomic<bool>* full_;
};

class FullDiskFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FullDiskFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "ParleyFullDiskFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, result, dbg);
    if (status.ok()) *result = std::make_unique<FullDiskFile>(std::move(*result), &full);
    return status;
  }

  std::atomic<bool> full{false};
};

TEST(RocksDbDiskFullTest, NoSpaceIsStorageFullAndLosesNothingAcknowledged) {
  TempDir dir;
  RocksDbOptions options{.path = (dir.path() / "db").string()};
  auto file_system = std::make_shared<FullDiskFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(file_system);
  {
    auto opened = open_rocksdb_store(options, env.get());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    Store& store = **opened;
    ASSERT_TRUE(store.create_account(make_account(1)).ok());
    ASSERT_TRUE(store.add_device(make_device(1, 1), 5).ok());
    AppendRequest before;
    before.envelopes = {envelope_to(address(1, 1), "before")};
    ASSERT_TRUE(store.append_messages(before).ok());

    file_system->full = true;
    AppendRequest refused;
    refused.envelopes = {envelope_to(address(1, 1), "refused")};
    refused.dedupe_key = to_bytes("refused");
    auto result = store.append_messages(refused);
    EXPECT_EQ(result.status().code(), ErrorCode::kStorageFull) << result.status().to_string();
    EXPECT_EQ(store.create_account(make_account(2)).code(), ErrorCode::kStorageFull);
    EXPECT_EQ(*store.count_messages(address(1, 1)), 1u);
    EXPECT_EQ(store.read_messages(address(1, 1), 0, 10)->size(), 1u);
    file_system->full = false;
  }
  auto reopened = RocksDbStore::open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  auto messages = (*reopened)->read_messages(address(1, 1), 0, 10);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ(as_string_view((*messages)[0].payload), "before");
  EXPECT_EQ((*reopened)->get_account(account_id(2)).status().code(), ErrorCode::kNotFound);
  // The refused request left no dedupe record: its retry is written as a new message.
  AppendRequest retry;
  retry.envelopes = {envelope_to(address(1, 1), "refused")};
  retry.dedupe_key = to_bytes("refused");
  auto retried = (*reopened)->append_messages(retry);
  ASSERT_TRUE(retried.ok());
  EXPECT_FALSE(retried->duplicate);
  EXPECT_EQ(retried->copies[0].seq, 2u);
}

// Below the reserved free space every write is refused before RocksDB sees it, reads go on, and
// nothing stays broken: the same files take writes again when opened with room to spare.
TEST(RocksDbDiskFullTest, BelowTheReserveWritesAreRefusedAndReadsGoOn) {
  TempDir dir;
  RocksDbOptions options{.path = (dir.path() / "db").string()};
  {
    auto opened = RocksDbStore::open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    ASSERT_TRUE((*opened)->create_account(make_account(1)).ok());
    ASSERT_TRUE((*opened)->add_device(make_device(1, 1), 5).ok());
    AppendRequest before;
    before.envelopes = {envelope_to(address(1, 1), "before")};
    ASSERT_TRUE((*opened)->append_messages(before).ok());
  }
  RocksDbOptions no_room = options;
  no_room.reserved_free_bytes = std::numeric_limits<std::uint64_t>::max();
  {
    auto opened = RocksDbStore::open(no_room);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    AppendRequest refused;
    refused.envelopes = {envelope_to(address(1, 1), "refused")};
    auto result = (*opened)->append_messages(refused);
    EXPECT_EQ(result.status().code(), ErrorCode::kStorageFull) << result.status().to_string();
    EXPECT_EQ((*opened)->create_account(make_account(2)).code(), ErrorCode::kStorageFull);
    auto messages = (*opened)->read_messages(address(1, 1), 0, 10);
    ASSERT_TRUE(messages.ok());
    EXPECT_EQ(messages->size(), 1u);
  }
  auto reopened = RocksDbStore::open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  AppendRequest after;
  after.envelopes = {envelope_to(address(1, 1), "after")};
  EXPECT_TRUE((*reopened)->append_messages(after).ok());
  EXPECT_EQ(*(*reopened)->count_messages(address(1, 1)), 2u);
}

}  // namespace
}  // namespace parley::store::testing
