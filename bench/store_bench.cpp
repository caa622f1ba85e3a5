// SPDX-License-Identifier: AGPL-3.0-or-later
// parley_server_bench, store append + ack: RocksDbStore storing one message and acking it, as a
// delivered message costs the server, next to raw RocksDB doing the same writes; alone, with
// 8 threads at once (group commit), and both sides alternating in one loop (registered in
// server_bench.cpp).
//
//   Store_AppendAck vs RocksDb_PutDelete (also _Threads)
//   Paired_AppendAck_vs_RocksDb
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "parley/crypto/random.h"
#include "parley/store/rocksdb_store.h"
#include "server_bench.h"
#include "server_bench_support.h"

namespace parley::bench {
namespace {

// One message as ServerCore::send_message hands it to the store: sender, timestamp, 300-byte
// payload, a dedupe key (sender account | device | 16-byte client message id) and the queue cap.
// The last 8 bytes of the dedupe key are a counter, so every append is a new message.
struct MessageRequest {
  store::AppendRequest request;
  std::uint64_t counter = 0;

  MessageRequest(const store::DeviceAddress& to, std::uint64_t salt) {
    store::DeviceAddress sender{random_account_id(), 1};
    request.envelopes.push_back(
        {to, sender, 1767225600000, crypto::random_bytes(kCiphertextBytes)});
    request.dedupe_key = Bytes(sender.account_id.begin(), sender.account_id.end());
    append(request.dedupe_key, Bytes{0, 0, 0, 1});
    append(request.dedupe_key, crypto::random_bytes(8));
    append(request.dedupe_key, Bytes(8, 0));
    request.now_ms = 1767225600000;
    request.max_queue_per_device = 10000;
    counter = salt << 40;
  }
  const store::AppendRequest& next() {
    put_u64_be(request.dedupe_key.data() + request.dedupe_key.size() - 8, ++counter);
    return request;
  }
};

// Append one message, ack it: two synced writes, as a delivered message costs the server.
bool store_append_ack(store::Store& store, MessageRequest& message, benchmark::State& state) {
  auto appended = store.append_messages(message.next());
  if (!appended.ok() || appended->duplicate || appended->copies.size() != 1) {
    state.SkipWithError(
        ("append_messages failed: " +
         (appended.ok() ? std::string("duplicate or wrong copies") : appended.status().to_string()))
            .c_str());
    return false;
  }
  const store::DeliveredCopy& copy = appended->copies[0];
  auto deleted = store.delete_message(copy.recipient, copy.seq);
  if (!deleted.ok() || *deleted != 1) {
    state.SkipWithError(("ack failed: " + (deleted.ok() ? std::string("nothing deleted")
                                                        : deleted.status().to_string()))
                            .c_str());
    return false;
  }
  return true;
}

// Raw RocksDB with default options in its own directory: the message bytes under a
// `account | device | seq` key, put in a synced WriteBatch, then deleted with a synced delete.
class RawDb {
 public:
  RawDb() {
    if (!dir_.ok()) return;
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    if (rocksdb::DB::Open(options, dir_.path() + "/db", &db).ok()) db_.reset(db);
    sync_.sync = true;
  }
  bool ok() const { return db_ != nullptr; }

  // Returns an error text, empty on success.
  std::string put_delete(const std::string& key, const rocksdb::Slice& value) {
    rocksdb::WriteBatch batch;
    batch.Put(key, value);
    rocksdb::Status s = db_->Write(sync_, &batch);
    if (!s.ok()) return "put: " + s.ToString();
    s = db_->Delete(sync_, key);
    if (!s.ok()) return "delete: " + s.ToString();
    return {};
  }
  rocksdb::DB& db() { return *db_; }

 private:
  TempDir dir_;
  rocksdb::WriteOptions sync_;
  std::unique_ptr<rocksdb::DB> db_;
};

std::string raw_key(const store::AccountId& account, std::uint64_t seq) {
  std::string key(account.begin(), account.end());
  key.append({0, 0, 0, 1});
  key.resize(key.size() + 8);
  put_u64_be(reinterpret_cast<std::uint8_t*>(key.data() + key.size() - 8), seq);
  return key;
}

// The threaded variants share one store per run. Thread 0 creates it and publishes it before the
// start barrier; every thread takes its own reference in its first iteration, so the store lives
// until the last thread is done, also when a thread stops early with an error (and so skips the
// stop barrier). kThreads is in server_bench.h, where the registration reads it.
template <typename T>
class SharedSlot {
 public:
  void publish(std::shared_ptr<T> value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
  }
  std::shared_ptr<T> take() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

SharedSlot<BenchStore> g_shared_store;
store::StoreStats g_stats_before;  // thread 0 only
SharedSlot<RawDb> g_shared_raw;

}  // namespace

void BM_Store_AppendAck(benchmark::State& state) {
  BenchStore bench(1);
  if (!bench.ok()) {
    state.SkipWithError(bench.error().c_str());
    return;
  }
  MessageRequest message(bench.device(0), 1);
  if (!store_append_ack(bench.store(), message, state)) return;  // the check, untimed
  store::StoreStats before = bench.store().stats();
  for (auto _ : state) {
    if (!store_append_ack(bench.store(), message, state)) break;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  report_fsyncs(state, before, bench.store().stats());
}

void BM_RocksDb_PutDelete(benchmark::State& state) {
  RawDb raw;
  if (!raw.ok()) {
    state.SkipWithError("cannot open raw RocksDB");
    return;
  }
  const Bytes payload = crypto::random_bytes(kCiphertextBytes);
  const rocksdb::Slice value(reinterpret_cast<const char*>(payload.data()), payload.size());
  const store::AccountId account = random_account_id();
  std::uint64_t seq = 0;
  {  // the check, untimed: the put lands and the delete removes it
    std::string key = raw_key(account, ++seq);
    rocksdb::WriteBatch batch;
    batch.Put(key, value);
    std::string read;
    if (!raw.db().Write(rocksdb::WriteOptions(), &batch).ok() ||
        !raw.db().Get(rocksdb::ReadOptions(), key, &read).ok() || read != value.ToString() ||
        !raw.put_delete(key, value).empty() ||
        !raw.db().Get(rocksdb::ReadOptions(), key, &read).IsNotFound()) {
      state.SkipWithError("raw RocksDB put/delete check failed");
      return;
    }
  }
  for (auto _ : state) {
    std::string error = raw.put_delete(raw_key(account, ++seq), value);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Store_AppendAck_Threads(benchmark::State& state) {
  if (state.thread_index() == 0) {
    auto created = std::make_shared<BenchStore>(kThreads);
    if (created->ok()) g_stats_before = created->store().stats();
    g_shared_store.publish(std::move(created));
  }
  std::shared_ptr<BenchStore> bench;
  std::unique_ptr<MessageRequest> message;
  for (auto _ : state) {
    if (!bench) {  // the first iteration, after the start barrier
      bench = g_shared_store.take();
      if (!bench || !bench->ok()) {
        state.SkipWithError(bench ? bench->error().c_str() : "setup failed");
        break;
      }
      // Each thread its own device (a different mailbox, as different users).
      message = std::make_unique<MessageRequest>(
          bench->device(static_cast<std::size_t>(state.thread_index())),
          static_cast<std::uint64_t>(state.thread_index()) + 1);
    }
    if (!store_append_ack(bench->store(), *message, state)) break;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (state.thread_index() == 0) {
    if (bench && bench->ok()) {
      store::StoreStats after = bench->store().stats();
      report_fsyncs(state, g_stats_before, after);
      if (after.wal_syncs > g_stats_before.wal_syncs) {
        state.counters["messages_per_fsync"] =
            static_cast<double>(after.envelopes_written - g_stats_before.envelopes_written) /
            static_cast<double>(after.wal_syncs - g_stats_before.wal_syncs);
      }
    }
    g_shared_store.publish(nullptr);
  }
}

void BM_RocksDb_PutDelete_Threads(benchmark::State& state) {
  if (state.thread_index() == 0) g_shared_raw.publish(std::make_shared<RawDb>());
  const Bytes payload = crypto::random_bytes(kCiphertextBytes);
  const rocksdb::Slice value(reinterpret_cast<const char*>(payload.data()), payload.size());
  const store::AccountId account = random_account_id();
  std::uint64_t seq = 0;
  std::shared_ptr<RawDb> raw;
  for (auto _ : state) {
    if (!raw) {  // the first iteration, after the start barrier
      raw = g_shared_raw.take();
      if (!raw || !raw->ok()) {
        state.SkipWithError("cannot open raw RocksDB");
        break;
      }
    }
    std::string error = raw->put_delete(raw_key(account, ++seq), value);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (state.thread_index() == 0) g_shared_raw.publish(nullptr);
}

void BM_Paired_AppendAck_vs_RocksDb(benchmark::State& state) {
  BenchStore bench(1);
  RawDb raw;
  if (!bench.ok() || !raw.ok()) {
    state.SkipWithError(bench.ok() ? "cannot open raw RocksDB" : bench.error().c_str());
    return;
  }
  MessageRequest message(bench.device(0), 1);
  if (!store_append_ack(bench.store(), message, state)) return;  // the check, untimed
  const Bytes payload = crypto::random_bytes(kCiphertextBytes);
  const rocksdb::Slice value(reinterpret_cast<const char*>(payload.data()), payload.size());
  const store::AccountId account = random_account_id();
  std::uint64_t seq = 0;
  run_paired(
      state, [&] { return store_append_ack(bench.store(), message, state); },
      [&] {
        std::string error = raw.put_delete(raw_key(account, ++seq), value);
        if (!error.empty()) state.SkipWithError(error.c_str());
        return error.empty();
      });
}

}  // namespace parley::bench
