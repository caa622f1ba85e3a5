// SPDX-License-Identifier: AGPL-3.0-or-later
// PostgreSQL-only behaviour of PgStore: schema migrations, several nodes on one database, and a
// server that restarts or crashes under an open store. (The conformance suites run against
// PgStore too, from the shared store_*_test.cpp files.)

#include "parley/store/pg_store.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <thread>

#include "parley/store/pg_blob_store.h"
#include "postgres_process.h"
#include "store_fixture.h"

namespace parley::store::testing {
namespace {

std::unique_ptr<PgStore> open_store(const std::string& conninfo) {
  auto store = PgStore::open({.conninfo = conninfo, .max_connections = 4, .connect_timeout_s = 2});
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(store).value() : nullptr;
}

pqxx::result query(const std::string& conninfo, const std::string& sql) {
  pqxx::connection connection(conninfo);
  pqxx::nontransaction work(connection);
  return work.exec(sql);
}

TEST(PgStoreMigrations, RecordedOnceAndReopenIsIdempotent) {
  const std::string conninfo = fresh_database_conninfo();
  ASSERT_FALSE(conninfo.empty()) << shared_postgres().failure();
  {
    auto store = open_store(conninfo);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_account(make_account(1, "alice")).ok());
  }
  auto again = open_store(conninfo);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->get_account(account_id(1))->username, "alice");
  pqxx::result versions = query(conninfo, "SELECT version FROM schema_migrations ORDER BY 1");
  ASSERT_EQ(versions.size(), static_cast<std::size_t>(PgStore::latest_schema_version()));
  for (std::size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(versions[i][0].as<std::int64_t>(), static_cast<std::int64_t>(i + 1));
  }
}

TEST(PgStoreMigrations, AnOlderSchemaIsMigrated) {
  const std::string conninfo = fresh_database_conninfo();
  ASSERT_FALSE(conninfo.empty()) << shared_postgres().failure();
  ASSERT_GE(PgStore::latest_schema_version(), 2);
  {
    auto store = open_store(conninfo);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->create_account(make_account(1)).ok());
  }
  // Back to version 1, as a parleyd from before the blobs migration left it.
  query(conninfo,
        "DROP TABLE blob_chunks, blob_tombstones, blobs;"
        " DELETE FROM schema_migrations WHERE version >= 2");
  auto blobs = PgBlobStore::open({.conninfo = conninfo});
  ASSERT_TRUE(blobs.ok()) << blobs.status().to_string();
  EXPECT_EQ(query(conninfo, "SELECT max(version) FROM schema_migrations")[0][0].as<std::int64_t>(),
            PgStore::latest_schema_version());
  EXPECT_TRUE((*blobs)->create(BlobId{1}, account_id(1), 10, 1, 2, {}).ok());
  // The data of version 1 is still there.
  auto store = open_store(conninfo);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->get_account(account_id(1)).ok());
}

TEST(PgStoreMigrations, ANewerSchemaIsRefused) {
  const std::string conninfo = fresh_database_conninfo();
  ASSERT_FALSE(conninfo.empty()) << shared_postgres().failure();
  ASSERT_NE(open_store(conninfo), nullptr);
  query(conninfo, "INSERT INTO schema_migrations (version) VALUES (" +
                      std::to_string(PgStore::latest_schema_version() + 1) + ")");
  auto refused = PgStore::open({.conninfo = conninfo});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("newer"), std::string::npos);
}

TEST(PgStoreNodes, ConcurrentClaimsFromTwoNodesHandOutEachKeyOnce) {
  const std::string conninfo = fresh_database_conninfo();
  ASSERT_FALSE(conninfo.empty()) << shared_postgres().failure();
  auto node_a = open_store(conninfo);
  auto node_b = open_store(conninfo);
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  ASSERT_TRUE(node_a->create_account(make_account(1)).ok());
  ASSERT_TRUE(node_a->add_device(make_device(1, 1), 5).ok());
  constexpr std::uint32_t kKeys = 300;
  std::vector<OneTimePrekey> batch;
  for (std::uint32_t id = 1; id <= kKeys; ++id) batch.push_back({id, Bytes{1, 2, 3}});
  ASSERT_TRUE(node_a->add_one_time_prekeys(address(1, 1), batch, kKeys).ok());

  std::mutex mutex;
  std::vector<std::uint32_t> claimed;
  int errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    PgStore& node = t % 2 == 0 ? *node_a : *node_b;
    threads.emplace_back([&] {
      while (true) {
        auto prekey = node.claim_one_time_prekey(address(1, 1));
        std::lock_guard lock(mutex);
        if (!prekey.ok()) ++errors;
        if (!prekey.ok() || !prekey->has_value()) return;
        claimed.push_back((*prekey)->key_id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors, 0);
  std::sort(claimed.begin(), claimed.end());
  ASSERT_EQ(claimed.size(), kKeys);
  for (std::uint32_t i = 0; i < kKeys; ++i) EXPECT_EQ(claimed[i], i + 1);
}

TEST(PgStoreBatching, AppendsCoalescedUnderLoadEachKeepTheirOwnAnswer) {
  const std::string conninfo = fresh_database_conninfo();
  ASSERT_FALSE(conninfo.empty()) << shared_postgres().failure();
  // Two connections for twelve senders: most appends wait, and ride in someone else's batch.
  auto opened = PgStore::open({.conninfo = conninfo, .max_connections = 2});
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  PgStore& store = **opened;
  for (std::uint8_t n : {1, 2}) {
    ASSERT_TRUE(store.create_account(make_account(n)).ok());
    ASSERT_TRUE(store.add_device(make_device(n, 1), 5).ok());
  }
  constexpr int kThreads = 12;
  constexpr int kMessagesPerThread = 30;
  std::mutex mutex;
  std::map<std::string, std::vector<DeliveredCopy>> acked;
  int errors = 0;
  int refused = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMessagesPerThread; ++i) {
        // Pairs of threads send the same messages (retries over two connections); every seventh
        // request also names a device that does not exist and must be refused on its own.
        const int message = (t / 2) * kMessagesPerThread + i;
        const std::string key = "msg" + std::to_string(message);
        AppendRequest request;
        request.envelopes = {envelope_to(address(1, 1), key), envelope_to(address(2, 1), key)};
        if (message % 7 == 0) request.envelopes.push_back(envelope_to(address(2, 9), key));
        request.dedupe_key = to_bytes(key);
        request.now_ms = 1;
        auto result = store.append_messages(request);
        std::lock_guard lock(mutex);
        if (message % 7 == 0) {
          refused += result.status().code() == ErrorCode::kNotFound;
          continue;
        }
        if (!result.ok()) {
          ++errors;
          continue;
        }
        auto [it, inserted] = acked.emplace(key, result->copies);
        if (!inserted && it->second != result->copies) ++errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors, 0);
  const int messages = kThreads / 2 * kMessagesPerThread;
  int expected_refusals = 0;
  for (int m = 0; m < messages; ++m) expected_refusals += m % 7 == 0 ? 2 : 0;
  EXPECT_EQ(refused, expected_refusals);
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(messages - expected_refusals / 2));
  for (const DeviceAddress& to : {address(1, 1), address(2, 1)}) {
    auto stored = store.read_messages(to, 0, 10'000);
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->size(), acked.size());
    for (std::size_t i = 0; i < stored->size(); ++i) EXPECT_EQ((*stored)[i].seq, i + 1);
  }
  // How much was coalesced depends on timing; it is reported, not asserted.
  const StoreStats stats = store.stats();
  RecordProperty("coalesced_appends",
                 std::to_string(stats.writes_done_by_leader + stats.writes_done_by_other));
}

TEST(PgStoreErrors, ConstraintErrorsNameNoUserData) {
  const std::string conninfo = fresh_database_conninfo();
  ASSERT_FALSE(conninfo.empty()) << shared_postgres().failure();
  auto store = open_store(conninfo);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->create_account(make_account(1, "alice")).ok());
  Status taken = store->create_account(make_account(2, "alice"));
  EXPECT_EQ(taken.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.message().find("alice"), std::string::npos) << taken.message();
}

// Each of these owns its server, since it stops or kills it.
class PgStoreServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << server_.failure();
    ASSERT_TRUE(server_.create_database("parley")) << server_.failure();
    store_ = open_store(server_.conninfo("parley"));
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->create_account(make_account(1, "alice")).ok());
    ASSERT_TRUE(store_->add_device(make_device(1, 1), 5).ok());
  }

  AppendRequest message(std::string_view body) {
    AppendRequest request;
    request.envelopes = {envelope_to(address(1, 1), body)};
    request.dedupe_key = to_bytes(body);
    request.now_ms = 1;
    return request;
  }

  PostgresProcess server_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(PgStoreServerTest, UnavailableWhileDownAndWorkingAfterARestartWithoutReopening) {
  ASSERT_TRUE(store_->append_messages(message("before")).ok());
  server_.stop();

  auto account = store_->get_account(account_id(1));
  EXPECT_EQ(account.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(account.status().message().find("alice"), std::string::npos);
  auto append = store_->append_messages(message("while down"));
  EXPECT_EQ(append.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(append.status().message().find("while down"), std::string::npos);
  EXPECT_EQ(store_->claim_one_time_prekey(address(1, 1)).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store_->stats().shared_payloads_live, 0u);  // no answer: zero, not a hang
  EXPECT_EQ(PgStore::open({.conninfo = server_.conninfo("parley")}).status().code(),
            ErrorCode::kUnavailable);

  ASSERT_TRUE(server_.start()) << server_.failure();
  EXPECT_EQ(store_->get_account(account_id(1))->username, "alice");
  ASSERT_TRUE(store_->append_messages(message("after")).ok());
  auto stored = store_->read_messages(address(1, 1), 0, 10);
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ(as_string_view((*stored)[0].payload), "before");
  EXPECT_EQ(as_string_view((*stored)[1].payload), "after");
}

TEST_F(PgStoreServerTest, AnAcknowledgedAppendSurvivesKill9OfThePostmaster) {
  auto acked = store_->append_messages(message("acked"));
  ASSERT_TRUE(acked.ok()) << acked.status().to_string();
  server_.kill9();
  ASSERT_TRUE(server_.start()) << server_.failure();

  auto stored = store_->read_messages(address(1, 1), 0, 10);
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].seq, acked->copies[0].seq);
  EXPECT_EQ(as_string_view((*stored)[0].payload), "acked");
  // The dedupe record committed with it: a retry of the same message is recognised.
  auto retry = store_->append_messages(message("acked"));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->copies, acked->copies);
}

TEST_F(PgStoreServerTest, BlobChunksAreSharedByNodesAndSurviveKill9) {
  const std::string conninfo = server_.conninfo("parley");
  auto node_a = PgBlobStore::open({.conninfo = conninfo});
  auto node_b = PgBlobStore::open({.conninfo = conninfo});
  ASSERT_TRUE(node_a.ok() && node_b.ok());
  const BlobId id{0xb0, 1};
  ASSERT_TRUE((*node_a)->create(id, account_id(1), 6, 1, 1000, {}).ok());
  ASSERT_TRUE((*node_a)->append(id, account_id(1), 0, Bytes{1, 2, 3}, 1).ok());
  server_.kill9();
  ASSERT_TRUE(server_.start()) << server_.failure();
  // The upload resumes on the other node from the acknowledged offset.
  auto info = (*node_b)->status(id, 1);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->received, 3u);
  ASSERT_TRUE((*node_b)->append(id, account_id(1), 3, Bytes{4, 5, 6}, 1).ok());
  EXPECT_EQ(*(*node_a)->read(id, 0, 100, 1), (Bytes{1, 2, 3, 4, 5, 6}));
}

}  // namespace
}  // namespace parley::store::testing
