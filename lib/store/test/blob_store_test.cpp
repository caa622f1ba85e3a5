// SPDX-License-Identifier: AGPL-3.0-or-later
// Conformance: the BlobStore contract (blob_store.h) on every backend, then what only
// FileBlobStore promises: everything acknowledged survives a restart, uploads resume, damaged
// files are set aside.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "parley/store/file_blob_store.h"
#include "parley/store/memory_blob_store.h"
#ifdef PARLEY_STORE_TEST_POSTGRES
#include "parley/store/pg_blob_store.h"
#endif
#include "store_fixture.h"

namespace parley::store::testing {
namespace {

constexpr std::int64_t kNow = 1'767'225'600'000;
constexpr std::int64_t kDay = std::int64_t{24} * 3600 * 1000;

BlobId blob_id(std::uint8_t n) {
  BlobId id{};
  id[0] = 0xb0;
  id[15] = n;
  return id;
}

Bytes pattern(std::size_t size, std::uint8_t seed = 1) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7 + i / 251);
  return out;
}

ByteView slice(const Bytes& bytes, std::size_t offset, std::size_t count) {
  return ByteView(bytes.data() + offset, std::min(count, bytes.size() - offset));
}

struct MemoryBlobs {
  static constexpr bool kPersistent = false;
  std::unique_ptr<BlobStore> open() { return std::make_unique<MemoryBlobStore>(); }
};

struct FileBlobs {
  static constexpr bool kPersistent = true;
  TempDir dir;
  std::filesystem::path path() const { return dir.path() / "blobs"; }
  std::unique_ptr<BlobStore> open() {
    auto store = FileBlobStore::open(path().string());
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

#ifdef PARLEY_STORE_TEST_POSTGRES
// parley_store_pg_test runs the conformance part against PgBlobStore on a fresh database.
struct PgBlobs {
  static constexpr bool kPersistent = true;
  std::string conninfo = fresh_database_conninfo();
  std::unique_ptr<BlobStore> open() {
    EXPECT_FALSE(conninfo.empty()) << shared_postgres().failure();
    if (conninfo.empty()) return nullptr;
    auto store = PgBlobStore::open({.conninfo = conninfo});
    EXPECT_TRUE(store.ok()) << store.status().to_string();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};
#endif

class BlobBackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBlobs>) return "Memory";
    return std::is_same_v<T, FileBlobs> ? "File" : "Postgres";
  }
};

template <typename Backend>
class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = backend_.open();
    ASSERT_NE(store_, nullptr);
  }
  BlobStore& blobs() { return *store_; }
  void reopen() {
    store_.reset();
    store_ = backend_.open();
    ASSERT_NE(store_, nullptr);
  }

  // Creates blob `n` of `size` bytes for account 1, expiring in 30 days.
  void create(std::uint8_t n, std::uint64_t size, BlobLimits limits = {}) {
    ASSERT_TRUE(
        blobs().create(blob_id(n), account_id(1), size, kNow, kNow + 30 * kDay, limits).ok());
  }
  // Uploads `data` in chunks of `chunk` bytes from offset 0.
  void upload(std::uint8_t n, const Bytes& data, std::size_t chunk) {
    for (std::size_t offset = 0; offset < data.size(); offset += chunk) {
      auto info =
          blobs().append(blob_id(n), account_id(1), offset, slice(data, offset, chunk), kNow);
      ASSERT_TRUE(info.ok()) << info.status().to_string();
      ASSERT_EQ(info->received, std::min(data.size(), offset + chunk));
    }
  }
  Bytes download(std::uint8_t n, std::size_t chunk, std::int64_t now = kNow) {
    Bytes out;
    for (;;) {
      auto part = blobs().read(blob_id(n), out.size(), chunk, now);
      EXPECT_TRUE(part.ok()) << part.status().to_string();
      if (!part.ok() || part->empty()) return out;
      out.insert(out.end(), part->begin(), part->end());
    }
  }

  Backend backend_;
  std::unique_ptr<BlobStore> store_;
};

#ifdef PARLEY_STORE_TEST_POSTGRES
using BlobBackends = ::testing::Types<PgBlobs>;
#else
using BlobBackends = ::testing::Types<MemoryBlobs, FileBlobs>;
#endif
TYPED_TEST_SUITE(BlobStoreTest, BlobBackends, BlobBackendNames);

TYPED_TEST(BlobStoreTest, UploadInChunksThenDownloadInOtherChunks) {
  const Bytes data = pattern(40'000);
  this->create(1, data.size());
  auto fresh = this->blobs().status(blob_id(1), kNow);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, (BlobInfo{account_id(1), 40'000, 0, kNow, kNow + 30 * kDay}));
  EXPECT_FALSE(fresh->complete());
  this->upload(1, data, 12 * 1024);
  auto done = this->blobs().status(blob_id(1), kNow);
  EXPECT_TRUE(done->complete());
  EXPECT_EQ(done->received, 40'000u);
  EXPECT_EQ(this->download(1, 5000), data);
  EXPECT_EQ(*this->blobs().read(blob_id(1), 39'990, 64 * 1024, kNow),
            Bytes(data.end() - 10, data.end()));
  EXPECT_TRUE(this->blobs().read(blob_id(1), 40'000, 100, kNow)->empty());
  EXPECT_EQ(this->blobs().read(blob_id(1), 40'001, 100, kNow).status().code(),
            ErrorCode::kOutOfRange);
  BlobStats stats = this->blobs().stats();
  EXPECT_EQ(stats.blobs, 1u);
  EXPECT_EQ(stats.bytes_declared, 40'000u);
  EXPECT_EQ(stats.bytes_received, 40'000u);
}

TYPED_TEST(BlobStoreTest, AChunkAtTheWrongOffsetChangesNothingAndTheUploadResumes) {
  const Bytes data = pattern(30'000, 9);
  this->create(1, data.size());
  ASSERT_TRUE(
      this->blobs().append(blob_id(1), account_id(1), 0, slice(data, 0, 10'000), kNow).ok());
  // A repeat of the first chunk (its ack was lost) and a chunk from the future are both refused.
  for (std::uint64_t offset : {0u, 5'000u, 20'000u}) {
    auto wrong =
        this->blobs().append(blob_id(1), account_id(1), offset, slice(data, offset, 10'000), kNow);
    EXPECT_EQ(wrong.status().code(), ErrorCode::kFailedPrecondition) << offset;
    EXPECT_NE(wrong.status().message().find("10000 bytes received"), std::string::npos)
        << wrong.status().message();
  }
  auto info = this->blobs().status(blob_id(1), kNow);
  ASSERT_EQ(info->received, 10'000u);  // resume from here
  for (std::uint64_t offset = info->received; offset < data.size(); offset += 10'000) {
    ASSERT_TRUE(this->blobs()
                    .append(blob_id(1), account_id(1), offset, slice(data, offset, 10'000), kNow)
                    .ok());
  }
  EXPECT_EQ(this->download(1, 7000), data);
}

TYPED_TEST(BlobStoreTest, ChunkRules) {
  this->create(1, 100);
  Bytes chunk(60, 1);
  EXPECT_EQ(this->blobs().append(blob_id(1), account_id(2), 0, chunk, kNow).status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(this->blobs().append(blob_id(1), account_id(1), 0, Bytes{}, kNow).status().code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(this->blobs().append(blob_id(1), account_id(1), 0, chunk, kNow).ok());
  EXPECT_EQ(this->blobs().append(blob_id(1), account_id(1), 60, chunk, kNow).status().code(),
            ErrorCode::kOutOfRange);  // 120 > 100
  EXPECT_EQ(this->blobs().read(blob_id(1), 0, 10, kNow).status().code(),
            ErrorCode::kFailedPrecondition);  // not complete yet
  EXPECT_EQ(this->blobs().append(blob_id(9), account_id(1), 0, chunk, kNow).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->blobs().status(blob_id(9), kNow).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->blobs().read(blob_id(9), 0, 1, kNow).status().code(), ErrorCode::kNotFound);
  auto last = this->blobs().append(blob_id(1), account_id(1), 60, Bytes(40, 2), kNow);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->complete());
  EXPECT_EQ(this->blobs().append(blob_id(1), account_id(1), 100, Bytes(1, 3), kNow).status().code(),
            ErrorCode::kOutOfRange);  // complete: nothing more fits
}

TYPED_TEST(BlobStoreTest, CreateChecksSizeQuotaAndIds) {
  BlobLimits limits{
      .max_blob_bytes = 1000, .quota_bytes_per_account = 1500, .max_incomplete_per_account = 0};
  auto create = [&](std::uint8_t n, std::uint8_t owner, std::uint64_t size,
                    std::int64_t now = kNow) {
    return this->blobs().create(blob_id(n), account_id(owner), size, now, now + kDay, limits);
  };
  EXPECT_EQ(create(1, 1, 0).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(create(1, 1, 1001).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(this->blobs().create(blob_id(1), account_id(1), 10, kNow, kNow, limits).code(),
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(create(1, 1, 1000).ok());
  EXPECT_EQ(create(1, 2, 10).code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(create(2, 1, 500).ok());  // exactly the quota
  Status over = create(3, 1, 1);
  EXPECT_EQ(over.code(), ErrorCode::kQuotaExceeded);
  EXPECT_NE(over.message().find("1500 bytes"), std::string::npos) << over.message();
  EXPECT_TRUE(create(3, 2, 1000).ok());  // the quota is per account
  // Expired blobs stop counting at once, before any purge.
  EXPECT_TRUE(create(4, 1, 1000, kNow + kDay).ok());
}

TYPED_TEST(BlobStoreTest, UnfinishedUploadsPerAccountAreCapped) {
  BlobLimits limits;
  limits.max_incomplete_per_account = 2;
  ASSERT_TRUE(this->blobs().create(blob_id(1), account_id(1), 10, kNow, kNow + kDay, limits).ok());
  ASSERT_TRUE(this->blobs().create(blob_id(2), account_id(1), 10, kNow, kNow + kDay, limits).ok());
  EXPECT_EQ(this->blobs().create(blob_id(3), account_id(1), 10, kNow, kNow + kDay, limits).code(),
            ErrorCode::kResourceExhausted);
  ASSERT_TRUE(this->blobs().append(blob_id(1), account_id(1), 0, Bytes(10, 1), kNow).ok());
  EXPECT_TRUE(this->blobs().create(blob_id(3), account_id(1), 10, kNow, kNow + kDay, limits).ok());
}

TYPED_TEST(BlobStoreTest, ExpiredBlobsAnswerExpiredBeforeAndAfterThePurge) {
  const Bytes data = pattern(100);
  this->create(1, data.size());
  this->upload(1, data, 64);
  this->create(2, 50);  // never finished: expires too
  ASSERT_TRUE(this->blobs().create(blob_id(3), account_id(1), 10, kNow, kNow + 60 * kDay, {}).ok());
  const std::int64_t later = kNow + 30 * kDay;
  for (std::uint8_t n : {1, 2}) {
    EXPECT_EQ(this->blobs().status(blob_id(n), later).status().code(), ErrorCode::kExpired);
  }
  EXPECT_EQ(this->blobs().read(blob_id(1), 0, 10, later).status().code(), ErrorCode::kExpired);
  EXPECT_EQ(this->blobs().append(blob_id(2), account_id(1), 0, Bytes(1, 1), later).status().code(),
            ErrorCode::kExpired);
  EXPECT_EQ(*this->blobs().purge_expired(later - 1), 0u);
  EXPECT_EQ(*this->blobs().purge_expired(later), 2u);
  EXPECT_EQ(*this->blobs().purge_expired(later), 0u);
  EXPECT_EQ(this->blobs().stats().blobs, 1u);
  EXPECT_EQ(this->blobs().stats().bytes_received, 0u);
  // Purged: still "expired", not "not found", for a while.
  Status gone = this->blobs().status(blob_id(1), later).status();
  EXPECT_EQ(gone.code(), ErrorCode::kExpired);
  EXPECT_EQ(this->blobs().read(blob_id(1), 0, 10, kNow).status().code(), ErrorCode::kExpired);
  EXPECT_TRUE(this->blobs().status(blob_id(3), later).ok());
  // A purged id is never handed out again while it is remembered.
  EXPECT_EQ(this->blobs().create(blob_id(1), account_id(1), 10, later, later + kDay, {}).code(),
            ErrorCode::kAlreadyExists);
  // Tombstones are forgotten eventually.
  ASSERT_TRUE(this->blobs().purge_expired(later + kBlobTombstoneMs).ok());
  EXPECT_EQ(this->blobs().status(blob_id(1), later + kBlobTombstoneMs).status().code(),
            ErrorCode::kNotFound);
}

TYPED_TEST(BlobStoreTest, ConcurrentUploadsAndDownloads) {
  constexpr int kBlobs = 8;
  const Bytes data = pattern(20'000, 3);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kBlobs; ++t) {
    threads.emplace_back([&, t] {
      BlobId id = blob_id(static_cast<std::uint8_t>(t));
      AccountId owner = account_id(static_cast<std::uint8_t>(t % 3));
      if (!this->blobs().create(id, owner, data.size(), kNow, kNow + kDay, {}).ok()) ++errors;
      for (std::size_t offset = 0; offset < data.size(); offset += 3000) {
        if (!this->blobs().append(id, owner, offset, slice(data, offset, 3000), kNow).ok())
          ++errors;
      }
      Bytes back;
      while (back.size() < data.size()) {
        auto part = this->blobs().read(id, back.size(), 4096, kNow);
        if (!part.ok() || part->empty()) {
          ++errors;
          break;
        }
        back.insert(back.end(), part->begin(), part->end());
      }
      if (back != data) ++errors;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(this->blobs().stats().blobs, std::uint64_t{kBlobs});
}

// ---- FileBlobStore only -------------------------------------------------------------------------
#ifndef PARLEY_STORE_TEST_POSTGRES

class FileBlobStoreTest : public BlobStoreTest<FileBlobs> {
 protected:
  std::filesystem::path file_of(std::uint8_t n) const {
    return backend_.path() / (to_hex(blob_id(n)) + ".blob");
  }
};

TEST_F(FileBlobStoreTest, PartialUploadSurvivesARestartAndResumes) {
  const Bytes data = pattern(50'000, 5);
  create(1, data.size());
  ASSERT_TRUE(blobs().append(blob_id(1), account_id(1), 0, slice(data, 0, 12'288), kNow).ok());
  ASSERT_TRUE(
      blobs().append(blob_id(1), account_id(1), 12'288, slice(data, 12'288, 12'288), kNow).ok());
  // A chunk whose write was cut off by the crash: its bytes are in the file but were never counted.
  {
    std::ofstream torn(file_of(1), std::ios::binary | std::ios::app);
    torn << std::string(5000, '\x66');
  }
  reopen();
  auto info = blobs().status(blob_id(1), kNow);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(*info, (BlobInfo{account_id(1), 50'000, 24'576, kNow, kNow + 30 * kDay}));
  for (std::uint64_t offset = info->received; offset < data.size(); offset += 12'288) {
    ASSERT_TRUE(
        blobs().append(blob_id(1), account_id(1), offset, slice(data, offset, 12'288), kNow).ok());
  }
  reopen();
  EXPECT_EQ(download(1, 64UL * 1024), data);
  EXPECT_EQ(blobs().stats().bytes_received, 50'000u);
  // Quota and ownership came back with the index.
  EXPECT_EQ(blobs().append(blob_id(1), account_id(2), 50'000, Bytes(1), kNow).status().code(),
            ErrorCode::kPermissionDenied);
  BlobLimits tight;
  tight.quota_bytes_per_account = 50'000;
  EXPECT_EQ(blobs().create(blob_id(2), account_id(1), 1, kNow, kNow + kDay, tight).code(),
            ErrorCode::kQuotaExceeded);
}

TEST_F(FileBlobStoreTest, PurgeDeletesTheFile) {
  create(1, 10);
  EXPECT_TRUE(std::filesystem::exists(file_of(1)));
  ASSERT_EQ(*blobs().purge_expired(kNow + 30 * kDay), 1u);
  EXPECT_FALSE(std::filesystem::exists(file_of(1)));
  reopen();
  EXPECT_EQ(blobs().stats().blobs, 0u);
  EXPECT_EQ(blobs().status(blob_id(1), kNow).status().code(), ErrorCode::kNotFound);
}

TEST_F(FileBlobStoreTest, LeftoversAndDamagedFilesAreSetAside) {
  create(1, 10);
  create(2, 10);
  ASSERT_TRUE(blobs().append(blob_id(2), account_id(1), 0, Bytes(10, 7), kNow).ok());
  store_.reset();
  // A create cut short, a header overwritten, a file shorter than its received count, and an
  // unrelated file.
  std::ofstream(backend_.path() / (to_hex(blob_id(3)) + ".blob.tmp")) << "partial";
  std::ofstream(backend_.path() / (to_hex(blob_id(4)) + ".blob")) << "not a blob header";
  std::filesystem::resize_file(file_of(2), 64 + 5);
  std::ofstream(backend_.path() / "README") << "operator notes";
  reopen();
  EXPECT_EQ(blobs().stats().blobs, 1u);
  EXPECT_EQ(blobs().stats().quarantined, 2u);
  EXPECT_TRUE(blobs().status(blob_id(1), kNow).ok());
  EXPECT_EQ(blobs().status(blob_id(2), kNow).status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(backend_.path() / (to_hex(blob_id(3)) + ".blob.tmp")));
  EXPECT_TRUE(std::filesystem::exists(file_of(2).string() + ".corrupt"));
  EXPECT_TRUE(std::filesystem::exists(backend_.path() / "README"));
}

TEST(FileBlobStoreOpenTest, CreatesAPrivateDirectory) {
  TempDir dir;
  auto path = dir.path() / "a" / "blobs";
  auto store = FileBlobStore::open(path.string());
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_EQ(FileBlobStore::open((dir.path() / "file").string()).status().code(),
            ErrorCode::kStorageIo);
}

#endif  // PARLEY_STORE_TEST_POSTGRES

}  // namespace
}  // namespace parley::store::testing
