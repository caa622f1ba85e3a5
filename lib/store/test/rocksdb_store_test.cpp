// SPDX-License-Identifier: AGPL-3.0-or-later
// What only the RocksDB backend promises: persistence across restarts, nothing left behind on
// disk after a deletion, clear errors for damaged or foreign data, and group commit.

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "../src/rocksdb_keys.h"
#include "raw_rocksdb.h"
#include "store_fixture.h"

namespace parley::store::testing {
namespace {

class RocksDbStoreTest : public StoreTest<RocksDbBackend> {
 protected:
  void close() { store_.reset(); }
};

TEST_F(RocksDbStoreTest, EverythingSurvivesReopenAndSeqCountersContinue) {
  create_account_with_devices(1, 2, "alice");
  ASSERT_TRUE(store().set_signed_prekey(address(1, 1), {5, Bytes{1}, Bytes{2}}).ok());
  std::vector<OneTimePrekey> prekeys{{1, Bytes{1}}, {2, Bytes{2}}};
  ASSERT_TRUE(store().add_one_time_prekeys(address(1, 1), prekeys, 10).ok());
  AppendRequest request;
  request.envelopes = {envelope_to(address(1, 1), "a"), envelope_to(address(1, 1), "b")};
  request.dedupe_key = to_bytes("k");
  auto first = store().append_messages(request);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(*store().delete_messages(address(1, 1), std::vector<std::uint64_t>{1, 2}), 2u);

  reopen();

  EXPECT_EQ(*store().find_account_by_username("alice"), make_account(1, "alice"));
  EXPECT_EQ(store().list_devices(account_id(1))->size(), 2u);
  EXPECT_EQ(store().get_signed_prekey(address(1, 1))->key_id, 5u);
  EXPECT_EQ(*store().count_one_time_prekeys(address(1, 1)), 2u);
  auto retry = store().append_messages(request);
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->copies, first->copies);
  // The mailbox was empty at shutdown, yet numbering continues instead of restarting at 1.
  request.dedupe_key = to_bytes("k2");
  auto next = store().append_messages(request);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->copies[0].seq, 3u);
  EXPECT_EQ(next->copies[1].seq, 4u);
}

TEST_F(RocksDbStoreTest, DeletedAccountLeavesNoKeyOrValueBehind) {
  create_account_with_devices(1, 3, "alice");
  create_account_with_devices(2, 1, "bob");
  for (DeviceId d = 1; d <= 3; ++d) {
    ASSERT_TRUE(store().set_signed_prekey(address(1, d), {1, Bytes{1}, Bytes{2}}).ok());
    std::vector<OneTimePrekey> prekeys{{1, Bytes{1}}, {2, Bytes{2}}};
    ASSERT_TRUE(store().add_one_time_prekeys(address(1, d), prekeys, 10).ok());
    AppendRequest request;
    request.envelopes = {envelope_to(address(1, d), "to alice"), envelope_to(address(2, 1), "x")};
    ASSERT_TRUE(store().append_messages(request).ok());
  }
  ASSERT_TRUE(store().delete_account(account_id(1)).ok());
  close();

  AccountId id = account_id(1);
  std::string id_bytes(reinterpret_cast<const char*>(id.data()), id.size());
  Bytes identity_key = make_account(1).identity_key;
  std::string key_bytes(as_string_view(identity_key));
  std::size_t bob_entries = 0;
  for (const RawEntry& entry : RawRocksDb(backend_.path()).scan_all()) {
    SCOPED_TRACE(entry.column_family);
    EXPECT_EQ(entry.key.find(id_bytes), std::string::npos);
    EXPECT_EQ(entry.value.find(id_bytes), std::string::npos);
    EXPECT_EQ(entry.key.find(key_bytes), std::string::npos);
    EXPECT_EQ(entry.key.find("alice"), std::string::npos);
    if (entry.key.find("bob") != std::string::npos) ++bob_entries;
  }
  EXPECT_EQ(bob_entries, 1u);  // the scan does see other accounts' data
}

TEST_F(RocksDbStoreTest, UnknownFormatVersionIsRefused) {
  close();
  RawRocksDb(backend_.path()).put("meta", "format_version", std::string("\0\0\0\x09", 4));
  auto reopened = RocksDbStore::open({.path = backend_.path()});
  EXPECT_EQ(reopened.status().code(), ErrorCode::kUnsupportedVersion);
}

TEST_F(RocksDbStoreTest, UnreadableRecordIsStorageCorrupt) {
  create_account_with_devices(1, 1);
  close();
  std::string key(reinterpret_cast<const char*>(account_id(1).data()), kAccountIdSize);
  RawRocksDb(backend_.path()).put("accounts", key, "\x01garbage");
  reopen();
  EXPECT_EQ(store().get_account(account_id(1)).status().code(), ErrorCode::kStorageCorrupt);
}

// Overwrites `count` bytes in the middle of every file whose name starts with `prefix`.
void damage_files(const std::filesystem::path& dir, std::string_view prefix) {
  int damaged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    auto size = std::filesystem::file_size(entry.path());
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 3));
    std::string junk(64, '\x5a');
    file.write(junk.data(), static_cast<std::streamsize>(std::min<std::uintmax_t>(64, size / 3)));
    ++damaged;
  }
  ASSERT_GT(damaged, 0) << "no " << prefix << " file";
}

TEST_F(RocksDbStoreTest, DamagedManifestIsStorageCorruptAtOpen) {
  create_account_with_devices(1, 1);
  close();
  damage_files(backend_.path(), "MANIFEST-");
  auto reopened = RocksDbStore::open({.path = backend_.path()});
  EXPECT_EQ(reopened.status().code(), ErrorCode::kStorageCorrupt) << reopened.status().to_string();
}

TEST_F(RocksDbStoreTest, DamagedWriteAheadLogIsStorageCorruptAtOpen) {
  // Enough acknowledged writes that the damage lands well before the log's tail: losing them
  // silently would break the durability promise, so opening must fail loudly.
  create_account_with_devices(1, 1);
  for (int i = 0; i < 200; ++i) {
    AppendRequest request;
    request.envelopes = {envelope_to(address(1, 1), std::string(100, 'm'))};
    ASSERT_TRUE(store().append_messages(request).ok());
  }
  close();
  damage_files(backend_.path(), "0");  // WAL files are named 000NNN.log
  auto reopened = RocksDbStore::open({.path = backend_.path()});
  EXPECT_EQ(reopened.status().code(), ErrorCode::kStorageCorrupt) << reopened.status().to_string();
}

TEST_F(RocksDbStoreTest, ConcurrentSyncedAppendsShareFsyncs) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 40;
  for (std::uint8_t a = 1; a <= kThreads; ++a) create_account_with_devices(a, 1);
  StoreStats before = store().stats();
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        AppendRequest request;
        request.envelopes = {envelope_to(address(static_cast<std::uint8_t>(t + 1), 1), "m")};
        if (!store().append_messages(request).ok()) ++errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  StoreStats after = store().stats();
  EXPECT_EQ(errors.load(), 0);
  std::uint64_t envelopes = after.envelopes_written - before.envelopes_written;
  std::uint64_t syncs = after.wal_syncs - before.wal_syncs;
  EXPECT_EQ(envelopes, std::uint64_t{kThreads} * kAppendsPerThread);
  EXPECT_GT(syncs, 0u);
  // Group commit: fewer fsyncs than acknowledged writes, with followers riding on leaders.
  EXPECT_LT(syncs, envelopes);
  EXPECT_GT(after.writes_done_by_other, before.writes_done_by_other);
  EXPECT_GT(after.wal_sync_micros_max, 0.0);
}

// How often `needle` occurs in the raw bytes of every file under `dir` (WAL, SST, everything).
std::size_t occurrences_on_disk(const std::filesystem::path& dir, const std::string& needle) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream file(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (std::size_t at = content.find(needle); at != std::string::npos;
         at = content.find(needle, at + 1)) {
      ++count;
    }
  }
  return count;
}

std::string random_marker() {
  std::random_device random;
  std::string marker(64, '\0');
  for (char& c : marker) c = static_cast<char>(random() & 0xff);
  return marker;
}

TEST_F(RocksDbStoreTest, SharedPayloadIsStoredOnceOnDiskAndGoesWithTheLastAck) {
  // 200 recipient devices: 40 accounts with 5 devices each.
  std::vector<DeviceAddress> devices;
  for (std::uint8_t a = 1; a <= 40; ++a) {
    create_account_with_devices(a, 5);
    for (DeviceId d = 1; d <= 5; ++d) devices.push_back(address(a, d));
  }
  const std::string marker = random_marker();
  AppendRequest request;
  for (const DeviceAddress& device : devices) request.envelopes.push_back(envelope_to(device, ""));
  request.shared_payload = to_bytes("group message [" + marker + "]");
  request.dedupe_key = to_bytes("sender:group-1");
  auto appended = store().append_messages(request);
  ASSERT_TRUE(appended.ok()) << appended.status().to_string();
  ASSERT_EQ(appended->copies.size(), 200u);

  // The same fan-out stored per copy, as a control: the scan does see every copy in the WAL.
  const std::string control = random_marker();
  AppendRequest per_copy;
  for (const DeviceAddress& device : devices) {
    per_copy.envelopes.push_back(envelope_to(device, "per copy [" + control + "]"));
  }
  ASSERT_TRUE(store().append_messages(per_copy).ok());

  close();  // the log holds both writes; nothing is flushed to tables yet
  EXPECT_GE(occurrences_on_disk(backend_.path(), control), 200u);
  std::size_t in_log = occurrences_on_disk(backend_.path(), marker);
  EXPECT_GE(in_log, 1u);
  EXPECT_LE(in_log, 2u);
  reopen();  // recovery writes the log into a table file: the marker moves, it does not multiply
  std::size_t in_tables = occurrences_on_disk(backend_.path(), marker);
  EXPECT_GE(in_tables, 1u);
  EXPECT_LE(in_tables, 2u);
  EXPECT_EQ(store().stats().shared_payloads_live, 1u);

  // Every device reads it; the last of the 200 acks deletes it.
  for (const DeliveredCopy& copy : appended->copies) {
    auto messages = store().read_messages(copy.recipient, copy.seq - 1, 1);
    ASSERT_TRUE(messages.ok());
    ASSERT_EQ(messages->size(), 1u);
    ASSERT_EQ(messages->front().payload, *request.shared_payload);
    ASSERT_EQ(*store().delete_message(copy.recipient, copy.seq), 1u);
  }
  EXPECT_EQ(store().stats().shared_payloads_live, 0u);
  close();
  std::size_t shared_records = 0;
  for (const RawEntry& entry : RawRocksDb(backend_.path()).scan_all()) {
    if (entry.column_family == "shared_payloads") ++shared_records;
    EXPECT_EQ(entry.value.find(marker), std::string::npos) << entry.column_family;
  }
  EXPECT_EQ(shared_records, 0u);
}

// The last ack's release and the payload's deletion are two writes: a crash between them leaves
// a count of 0, and the next open must delete that payload (not count it as live, not keep it).
TEST_F(RocksDbStoreTest, APayloadWhoseCountReachedZeroBeforeACrashGoesAtTheNextOpen) {
  create_account_with_devices(1, 2);
  const std::string marker = random_marker();
  AppendRequest request;
  for (DeviceId d = 1; d <= 2; ++d) request.envelopes.push_back(envelope_to(address(1, d), ""));
  request.shared_payload = to_bytes("group message [" + marker + "]");
  auto appended = store().append_messages(request);
  ASSERT_TRUE(appended.ok());
  for (const DeliveredCopy& copy : appended->copies) {
    ASSERT_TRUE(store().delete_message(copy.recipient, copy.seq).ok());
  }
  close();
  // Put the payload back as the crash would have left it: still there, its count at 0.
  {
    RawRocksDb raw(backend_.path());
    raw.put("shared_payloads", keys::shared_payload(1),
            codec::encode_shared_payload(*request.shared_payload));
    raw.put("shared_payloads", keys::reference_count(1), codec::encode_reference_count(0));
  }
  reopen();
  EXPECT_EQ(store().stats().shared_payloads_live, 0u);
  close();
  for (const RawEntry& entry : RawRocksDb(backend_.path()).scan_all()) {
    EXPECT_NE(entry.column_family, "shared_payloads") << "left behind";
    EXPECT_EQ(entry.value.find(marker), std::string::npos);
  }
}

TEST_F(RocksDbStoreTest, FormatVersionOneIsUpgradedAtOpen) {
  create_account_with_devices(1, 1);
  close();
  RawRocksDb(backend_.path()).put("meta", "format_version", std::string("\0\0\0\x01", 4));
  reopen();
  close();
  for (const RawEntry& entry : RawRocksDb(backend_.path()).scan_all()) {
    if (entry.key == "format_version") {
      EXPECT_EQ(entry.value, std::string("\0\0\0\x02", 4));
    }
  }
}

TEST(RocksDbOpenTest, MissingDirectoryWithoutCreateIsAnError) {
  TempDir dir;
  auto store =
      RocksDbStore::open({.path = (dir.path() / "absent").string(), .create_if_missing = false});
  EXPECT_EQ(store.status().code(), ErrorCode::kStorageIo);
  EXPECT_EQ(RocksDbStore::open({}).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace parley::store::testing
