// SPDX-License-Identifier: AGPL-3.0-or-later
// The server's hot path, each Parley benchmark next to the closest honest baseline doing the same
// job in the same process (ratios in bench/README.md):
//
//   Parley_DecodeRequest/N vs Protobuf_ParseFrame/N (N = 1, 16)
//       proto::decode_request() of a SendMessage frame with N copies of a 300-byte ciphertext
//       (size, parse, version, kind, per-field checks) vs a bare wire::Frame::ParseFromArray
//   Parley_EncodePush vs Protobuf_SerializePush
//       a delivery push built from a StoredEnvelope and encoded the server's way (push_frame +
//       encode_shared) vs filling a wire::Frame in place and SerializeToString
//   Store_AppendAck vs RocksDb_PutDelete (also _Threads: 8 at once, group commit)
//       RocksDbStore (synced, as in production) append_messages of one 300-byte message with a
//       dedupe key, then its ack (delete_message) vs raw RocksDB: a synced WriteBatch put of the
//       same bytes, then a synced delete
//   Store_FanOutShared/K vs Store_FanOutCopies/K (K = 10, 100, 1000)
//       one 300-byte group message stored for K devices by reference
//       (AppendRequest::shared_payload) vs K full copies, same store
//   Paired_AppendAck_vs_RocksDb, Paired_FanOutShared_vs_Copies/K
//       the two disk-bound pairs again, both sides alternating in ONE loop and timed separately
//       (counters parley_us, peer_us, ratio; the same in CPU time): robust to a shared disk whose
//       fsync latency swings from run to run
//   Core_SendGroup/K vs MemoryStore_AppendShared/K
//       ServerCore (MemoryStore, inline) answering a SendGroupMessage frame for K devices vs the
//       MemoryStore append it ends in
//
// Every benchmark checks its result (a wrong Status ends it with SkipWithError), so a broken path
// cannot report a fast number. Data are random bytes from libsodium. RocksDB directories are
// fresh per run under $TMPDIR (default /tmp; use a real disk: fsync is the point).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "parley/crypto/keys.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/frame.h"
#include "parley/proto/signed_messages.h"
#include "parley/server/metrics.h"
#include "parley/server/server_core.h"
#include "parley/store/memory_blob_store.h"
#include "parley/store/memory_store.h"
#include "parley/store/rocksdb_store.h"
#include "parley/util/clock.h"

namespace parley::bench {
namespace {

constexpr std::size_t kCiphertextBytes = 300;

std::string to_field(ByteView bytes) {
  return std::string(as_string_view(bytes));
}

void put_u64_be(std::uint8_t* out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
}

store::AccountId random_account_id() {
  store::AccountId id{};
  crypto::fill_random(id);
  return id;
}

// A 33-byte 0x05-prefixed value: unique per account, which the identity-key index requires.
Bytes random_identity_key() {
  Bytes key = crypto::random_bytes(33);
  key[0] = 0x05;
  return key;
}

// Creates the account and its device 1 (the store refuses appends to unknown devices).
Status add_account(store::Store& store, const store::AccountId& id, Bytes device_key) {
  PARLEY_RETURN_IF_ERROR(store.create_account({id, random_identity_key(), std::nullopt, 0, {}}));
  return store.add_device({id, store::kPrimaryDeviceId, std::move(device_key), 1, 0, 0}, 16);
}

// A fresh directory under $TMPDIR, removed with everything in it when this goes away.
class TempDir {
 public:
  TempDir() {
    std::error_code error;
    std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error) return;  // ok() is false: the benchmark reports it
    std::string pattern = (base / "parley-server-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- 1. Frames ---------------------------------------------------------------------------------

// A SendMessage frame as a client sends it: 16-byte recipient, 16-byte client message id, one
// 300-byte random ciphertext per device 1..copies.
Bytes send_message_frame(int copies) {
  wire::Request request;
  request.set_id(42);
  auto* send = request.mutable_send_message();
  send->set_recipient_account_id(to_field(crypto::random_bytes(proto::kAccountIdSize)));
  send->set_client_message_id(to_field(crypto::random_bytes(16)));
  for (int device = 1; device <= copies; ++device) {
    auto* copy = send->add_copies();
    copy->set_device_id(static_cast<std::uint32_t>(device));
    copy->set_ciphertext(to_field(crypto::random_bytes(kCiphertextBytes)));
  }
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

void BM_Parley_DecodeRequest(benchmark::State& state) {
  const int copies = static_cast<int>(state.range(0));
  const Bytes frame = send_message_frame(copies);
  const proto::Limits limits;
  {
    proto::DecodedRequest check = proto::decode_request(frame, limits);
    if (!check.status.ok() || check.request.send_message().copies_size() != copies) {
      state.SkipWithError(("decode_request failed: " + check.status.to_string()).c_str());
      return;
    }
  }
  for (auto _ : state) {
    proto::DecodedRequest decoded = proto::decode_request(frame, limits);
    if (!decoded.status.ok()) {
      state.SkipWithError(decoded.status.to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}

void BM_Protobuf_ParseFrame(benchmark::State& state) {
  const int copies = static_cast<int>(state.range(0));
  const Bytes frame = send_message_frame(copies);
  {
    wire::Frame check;
    if (!check.ParseFromArray(frame.data(), static_cast<int>(frame.size())) ||
        check.request().send_message().copies_size() != copies) {
      state.SkipWithError("ParseFromArray failed");
      return;
    }
  }
  for (auto _ : state) {
    wire::Frame parsed;
    if (!parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
      state.SkipWithError("ParseFromArray failed");
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}

// What the server holds when it pushes one message to a device.
store::StoredEnvelope sample_envelope() {
  store::StoredEnvelope envelope;
  envelope.seq = 123456;
  envelope.sender = store::DeviceAddress{random_account_id(), 2};
  envelope.timestamp_ms = 1767225600000;
  envelope.payload = crypto::random_bytes(kCiphertextBytes);
  return envelope;
}

// The same bytes both encoders must produce (checked once per run).
bool same_push(const Bytes& encoded, const store::StoredEnvelope& envelope) {
  auto decoded = proto::decode_server_frame(encoded, proto::Limits{});
  if (!decoded.ok() || !decoded->has_push() || !decoded->push().has_message()) return false;
  const wire::Envelope& m = decoded->push().message();
  return m.seq() == envelope.seq && m.ciphertext() == as_string_view(envelope.payload) &&
         m.sender_device_id() == envelope.sender->device_id;
}

// As ServerCore::Impl::push_envelope_locked builds it.
std::shared_ptr<const Bytes> parley_encode_push(const store::StoredEnvelope& envelope) {
  wire::Push push;
  auto* message = push.mutable_message();
  message->set_seq(envelope.seq);
  message->set_sender_account_id(to_field(envelope.sender->account_id));
  message->set_sender_device_id(envelope.sender->device_id);
  message->set_timestamp_ms(envelope.timestamp_ms);
  message->set_ciphertext(to_field(envelope.payload));
  return proto::encode_shared(proto::push_frame(std::move(push)));
}

std::string bare_encode_push(const store::StoredEnvelope& envelope) {
  wire::Frame frame;
  frame.set_version(proto::kProtocolVersion);
  auto* message = frame.mutable_push()->mutable_message();
  message->set_seq(envelope.seq);
  message->set_sender_account_id(to_field(envelope.sender->account_id));
  message->set_sender_device_id(envelope.sender->device_id);
  message->set_timestamp_ms(envelope.timestamp_ms);
  message->set_ciphertext(to_field(envelope.payload));
  std::string out;
  frame.SerializeToString(&out);
  return out;
}

void BM_Parley_EncodePush(benchmark::State& state) {
  const store::StoredEnvelope envelope = sample_envelope();
  if (!same_push(*parley_encode_push(envelope), envelope)) {
    state.SkipWithError("parley encoder produced a wrong push");
    return;
  }
  for (auto _ : state) {
    auto frame = parley_encode_push(envelope);
    benchmark::DoNotOptimize(frame);
  }
}

void BM_Protobuf_SerializePush(benchmark::State& state) {
  const store::StoredEnvelope envelope = sample_envelope();
  std::string check = bare_encode_push(envelope);
  if (!same_push(Bytes(check.begin(), check.end()), envelope)) {
    state.SkipWithError("bare encoder produced a wrong push");
    return;
  }
  for (auto _ : state) {
    std::string frame = bare_encode_push(envelope);
    benchmark::DoNotOptimize(frame);
  }
}

// ---- 2. Store append + ack ------------------------------------------------------------------

// A RocksDbStore in a fresh directory. Accounts are created with sync off (setup, not measured:
// a thousand synced creations would take seconds per run), then the store is reopened with
// synced writes as in production.
class BenchStore {
 public:
  // `accounts` accounts with device 1 each.
  explicit BenchStore(std::size_t accounts) {
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
                   const store::StoreStats& after) {
  auto syncs = static_cast<double>(after.wal_syncs - before.wal_syncs);
  if (syncs == 0) return;
  state.counters["writes_per_fsync"] =
      static_cast<double>(after.mutations - before.mutations) / syncs;
  state.counters["fsync_us_p50"] = after.wal_sync_micros_median;
  state.counters["fsync_us_p99"] = after.wal_sync_micros_p99;
}

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

// The threaded variants share one store per run. Thread 0 creates it and publishes it before the
// start barrier; every thread takes its own reference in its first iteration, so the store lives
// until the last thread is done, also when a thread stops early with an error (and so skips the
// stop barrier).
constexpr int kThreads = 8;

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

// ---- 3. Fan-out ---------------------------------------------------------------------------------

// A group message for every device of `bench` as ServerCore::send_group_message builds it: by
// reference (entries without payload + shared_payload) or, the naive way, K full copies.
store::AppendRequest group_append(const std::vector<store::DeviceAddress>& devices,
                                  const Bytes& ciphertext, bool shared) {
  store::AppendRequest request;
  store::DeviceAddress sender{random_account_id(), 1};
  for (const store::DeviceAddress& device : devices) {
    request.envelopes.push_back({device, sender, 1767225600000, shared ? Bytes() : ciphertext});
  }
  if (shared) request.shared_payload = ciphertext;
  request.dedupe_key = Bytes(sender.account_id.begin(), sender.account_id.end());
  append(request.dedupe_key, Bytes(4 + 8, 0));
  request.now_ms = 1767225600000;
  request.max_queue_per_device = 10000;
  return request;
}

// One side of the fan-out pair: a fresh store with K single-device accounts and the group message
// for all of them, stored by reference or as K copies.
class FanOutSide {
 public:
  FanOutSide(std::size_t k, bool shared) : bench_(k), shared_(shared) {
    if (!bench_.ok()) return;
    std::vector<store::DeviceAddress> devices;
    for (std::size_t i = 0; i < k; ++i) devices.push_back(bench_.device(i));
    request_ = group_append(devices, crypto::random_bytes(kCiphertextBytes), shared);
  }

  // Stores one message (a new dedupe key each time) and checks the result.
  bool append(benchmark::State& state) {
    put_u64_be(request_.dedupe_key.data() + request_.dedupe_key.size() - 8, ++counter_);
    auto result = bench_.store().append_messages(request_);
    if (!result.ok() || result->duplicate || result->copies.size() != bench_.devices()) {
      state.SkipWithError(
          ("append_messages failed: " +
           (result.ok() ? std::string("duplicate or wrong copies") : result.status().to_string()))
              .c_str());
      return false;
    }
    return true;
  }

  // The check, untimed: stores one message; the first and the last device read it back, and the
  // store holds one shared payload (by reference) or none (copies).
  bool setup_and_check(benchmark::State& state) {
    if (!bench_.ok()) {
      state.SkipWithError(bench_.error().c_str());
      return false;
    }
    if (!append(state)) return false;
    for (std::size_t i : {std::size_t{0}, bench_.devices() - 1}) {
      auto read = bench_.store().read_messages(bench_.device(i), 0, 10);
      if (!read.ok() || read->size() != 1 || read->front().payload.size() != kCiphertextBytes) {
        state.SkipWithError("fan-out check: a device did not get the message");
        return false;
      }
    }
    if (bench_.store().stats().shared_payloads_live != (shared_ ? 1u : 0u)) {
      state.SkipWithError("fan-out check: wrong number of shared payloads");
      return false;
    }
    return true;
  }

  store::RocksDbStore& store() { return bench_.store(); }

 private:
  BenchStore bench_;
  bool shared_;
  store::AppendRequest request_;
  std::uint64_t counter_ = 0;
};

void store_fan_out(benchmark::State& state, bool shared) {
  const auto k = static_cast<std::size_t>(state.range(0));
  FanOutSide side(k, shared);
  if (!side.setup_and_check(state)) return;
  store::StoreStats before = side.store().stats();
  for (auto _ : state) {
    if (!side.append(state)) break;
  }
  store::StoreStats after = side.store().stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k));  // mailbox entries
  state.counters["wal_bytes_per_msg"] =
      benchmark::Counter(static_cast<double>(after.wal_bytes - before.wal_bytes) /
                         static_cast<double>(std::max<std::int64_t>(state.iterations(), 1)));
  report_fsyncs(state, before, after);
}

void BM_Store_FanOutShared(benchmark::State& state) {
  store_fan_out(state, true);
}

void BM_Store_FanOutCopies(benchmark::State& state) {
  store_fan_out(state, false);
}

// ---- Disk-bound pairs, alternating in one loop -----------------------------------------------

// This thread's CPU time (user + system, including the fsync system calls).
std::chrono::nanoseconds thread_cpu_now() {
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

void BM_Paired_FanOutShared_vs_Copies(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  FanOutSide shared(k, true);
  FanOutSide copies(k, false);
  if (!shared.setup_and_check(state) || !copies.setup_and_check(state)) return;
  run_paired(
      state, [&] { return shared.append(state); }, [&] { return copies.append(state); });
}

// ServerCore in-process: a sink that keeps the last frame it was given.
class LastFrameSink final : public server::ConnectionSink {
 public:
  bool send(std::shared_ptr<const Bytes> frame) override {
    if (recording) history.push_back(frame);
    last_ = std::move(frame);
    ++count_;
    return true;
  }
  void close(ErrorCode reason) override { closed_ = reason; }
  const std::shared_ptr<const Bytes>& last() const { return last_; }
  std::uint64_t count() const { return count_; }
  std::optional<ErrorCode> closed() const { return closed_; }

  bool recording = false;  // during setup: keep every frame
  std::vector<std::shared_ptr<const Bytes>> history;

 private:
  std::shared_ptr<const Bytes> last_;
  std::uint64_t count_ = 0;
  std::optional<ErrorCode> closed_;
};

Result<wire::Response> last_response(const LastFrameSink& sink) {
  if (!sink.last()) return Status::error(ErrorCode::kInternal, "no frame from the core");
  PARLEY_ASSIGN_OR_RETURN(wire::Frame frame, proto::decode_server_frame(*sink.last(), {}));
  if (!frame.has_response()) return Status::error(ErrorCode::kInternal, "last frame: no response");
  if (frame.response().status() != 0) {
    return Status::error(static_cast<ErrorCode>(frame.response().status()),
                         "the core refused the request");
  }
  return frame.response();
}

Bytes encode_request(wire::Request request) {
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

// A core on a MemoryStore, inline (worker_threads = 0), no proof of work, no send limit; a
// sender device signed in on one connection and K recipient accounts with one device each.
struct CoreBench {
  FakeClock clock;
  store::MemoryStore store;
  store::MemoryBlobStore blobs;
  server::Metrics metrics;
  std::unique_ptr<server::ServerCore> core;
  std::shared_ptr<LastFrameSink> sink = std::make_shared<LastFrameSink>();
  std::unique_ptr<server::ConnectionHandler> connection;
  std::vector<store::DeviceAddress> recipients;
  std::string error;

  static server::ServerCoreConfig config() {
    server::ServerCoreConfig c;
    c.pow_difficulty_bits = 0;
    c.worker_threads = 0;
    c.maintenance_interval = std::chrono::seconds(0);
    c.abuse.sends_per_account.count = 0;  // the fake clock never refills the bucket
    return c;
  }

  explicit CoreBench(std::size_t k) {
    core = std::make_unique<server::ServerCore>(store, blobs, clock, metrics, config());
    for (std::size_t i = 0; i < k; ++i) {
      store::AccountId id = random_account_id();
      if (Status s = add_account(store, id, random_identity_key()); !s.ok()) {
        error = "setup: " + s.to_string();
        return;
      }
      recipients.push_back({id, store::kPrimaryDeviceId});
    }
    crypto::KeyPair key = crypto::KeyPair::generate();
    store::AccountId sender = random_account_id();
    if (Status s = add_account(store, sender, key.public_key.serialize()); !s.ok()) {
      error = "setup: " + s.to_string();
      return;
    }
    connection = core->accept(sink);
    wire::Request challenge_request;
    challenge_request.set_id(1);
    challenge_request.mutable_auth_challenge();
    connection->on_frame(encode_request(std::move(challenge_request)));
    auto challenge = last_response(*sink);
    if (!challenge.ok()) {
      error = "auth challenge: " + challenge.status().to_string();
      return;
    }
    const std::string& c = challenge->auth_challenge().challenge();
    wire::Request auth_request;
    auth_request.set_id(2);
    auto* auth = auth_request.mutable_authenticate();
    auth->set_account_id(to_field(sender));
    auth->set_device_id(store::kPrimaryDeviceId);
    auth->set_challenge(c);
    auth->set_signature(to_field(crypto::xeddsa_sign(
        key.private_key, proto::auth_signed_bytes(as_bytes(c), sender, store::kPrimaryDeviceId))));
    sink->recording = true;
    connection->on_frame(encode_request(std::move(auth_request)));
    sink->recording = false;
    // Followed by the drain's QueueEmpty push: look for the response itself.
    bool signed_in = false;
    for (const auto& f : sink->history) {
      auto decoded = proto::decode_server_frame(*f, {});
      if (decoded.ok() && decoded->has_response() && decoded->response().id() == 2) {
        signed_in = decoded->response().status() == 0;
      }
    }
    if (!signed_in || sink->closed()) error = "authenticate failed";
  }
  ~CoreBench() {
    if (connection) connection->on_close();
  }
};

// Deletes every stored message and dedupe key, so mailboxes stay far below their cap however
// many iterations run (called with the timer paused).
bool purge(store::Store& store) {
  return store.purge_messages_older_than(INT64_MAX).ok() &&
         store.purge_dedupe_keys_older_than(INT64_MAX).ok();
}
constexpr std::uint64_t kPurgeEvery = 2048;

void BM_Core_SendGroup(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  CoreBench bench(k);
  if (!bench.error.empty()) {
    state.SkipWithError(bench.error.c_str());
    return;
  }
  // The frame, encoded once; its 16-byte client message id starts with a random marker and ends
  // with a counter patched in place (same length, so the encoding stays valid).
  Bytes marker = crypto::random_bytes(8);
  wire::Request request;
  request.set_id(7);
  auto* send = request.mutable_send_group_message();
  send->set_client_message_id(to_field(marker) + std::string(8, '\0'));
  send->set_ciphertext(to_field(crypto::random_bytes(kCiphertextBytes)));
  for (const store::DeviceAddress& device : bench.recipients) {
    auto* member = send->add_recipients();
    member->set_account_id(to_field(device.account_id));
    member->add_device_ids(device.device_id);
  }
  Bytes frame = encode_request(std::move(request));
  auto at = std::search(frame.begin(), frame.end(), marker.begin(), marker.end());
  if (at == frame.end()) {
    state.SkipWithError("client message id not found in the frame");
    return;
  }
  std::uint8_t* counter_bytes = &*at + marker.size();
  std::uint64_t counter = 0;
  auto send_once = [&] {
    put_u64_be(counter_bytes, ++counter);
    bench.connection->on_frame(frame);
  };
  {  // the check, untimed: ok, K entries stored, the recipients can read it
    send_once();
    auto response = last_response(*bench.sink);
    if (!response.ok() || response->send_group_message().stored_copies() != k) {
      state.SkipWithError(("SendGroupMessage failed: " + response.status().to_string()).c_str());
      return;
    }
    auto read = bench.store.read_messages(bench.recipients.back(), 0, 10);
    if (!read.ok() || read->size() != 1 || read->front().payload.size() != kCiphertextBytes) {
      state.SkipWithError("SendGroupMessage check: a recipient did not get the message");
      return;
    }
  }
  std::uint64_t frames_before = bench.sink->count();
  std::uint64_t n = 0;
  for (auto _ : state) {
    send_once();
    if (++n % kPurgeEvery == 0) {
      state.PauseTiming();
      bool purged = purge(bench.store);
      state.ResumeTiming();
      if (!purged) {
        state.SkipWithError("purge failed");
        break;
      }
    }
  }
  // The check, untimed: one answer per request and the last one was ok.
  auto response = last_response(*bench.sink);
  if (bench.sink->count() - frames_before != n || !response.ok() ||
      response->send_group_message().stored_copies() != k) {
    state.SkipWithError("SendGroupMessage failed during the run");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k));
}

void BM_MemoryStore_AppendShared(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  store::MemoryStore store;
  std::vector<store::DeviceAddress> devices;
  for (std::size_t i = 0; i < k; ++i) {
    store::AccountId id = random_account_id();
    if (Status s = add_account(store, id, random_identity_key()); !s.ok()) {
      state.SkipWithError(s.to_string().c_str());
      return;
    }
    devices.push_back({id, store::kPrimaryDeviceId});
  }
  store::AppendRequest request =
      group_append(devices, crypto::random_bytes(kCiphertextBytes), true);
  std::uint64_t counter = 0;
  auto append_once = [&]() -> bool {
    put_u64_be(request.dedupe_key.data() + request.dedupe_key.size() - 8, ++counter);
    auto result = store.append_messages(request);
    if (!result.ok() || result->duplicate || result->copies.size() != k) {
      state.SkipWithError("append_messages failed");
      return false;
    }
    return true;
  };
  if (!append_once()) return;  // the check, untimed
  std::uint64_t n = 0;
  for (auto _ : state) {
    if (!append_once()) break;
    if (++n % kPurgeEvery == 0) {
      state.PauseTiming();
      bool purged = purge(store);
      state.ResumeTiming();
      if (!purged) {
        state.SkipWithError("purge failed");
        break;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * k));
}

}  // namespace

// Registered in pairs, Parley first; each pair's rows sit next to each other in the output.
BENCHMARK(BM_Parley_DecodeRequest)->Arg(1)->Arg(16);
BENCHMARK(BM_Protobuf_ParseFrame)->Arg(1)->Arg(16);
BENCHMARK(BM_Parley_EncodePush);
BENCHMARK(BM_Protobuf_SerializePush);

// fsync is wall time: real time decides the iteration count and is the number to read.
BENCHMARK(BM_Store_AppendAck)->UseRealTime();
BENCHMARK(BM_RocksDb_PutDelete)->UseRealTime();
BENCHMARK(BM_Store_AppendAck_Threads)->Threads(kThreads)->UseRealTime();
BENCHMARK(BM_RocksDb_PutDelete_Threads)->Threads(kThreads)->UseRealTime();

BENCHMARK(BM_Store_FanOutShared)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_Store_FanOutCopies)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

BENCHMARK(BM_Paired_AppendAck_vs_RocksDb)->UseRealTime();
BENCHMARK(BM_Paired_FanOutShared_vs_Copies)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

BENCHMARK(BM_Core_SendGroup)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_MemoryStore_AppendShared)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace parley::bench

BENCHMARK_MAIN();
