// SPDX-License-Identifier: AGPL-3.0-or-later
// parley_server_bench, group fan-out: one group message stored for K devices by reference vs K
// full copies (separately and alternating in one loop), and ServerCore answering a
// SendGroupMessage frame next to the MemoryStore append it ends in (registered in
// server_bench.cpp).
//
//   Store_FanOutShared/K vs Store_FanOutCopies/K, Paired_FanOutShared_vs_Copies/K
//   Core_SendGroup/K vs MemoryStore_AppendShared/K
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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
#include "parley/util/clock.h"
#include "server_bench.h"
#include "server_bench_support.h"

namespace parley::bench {
namespace {

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

}  // namespace

void BM_Store_FanOutShared(benchmark::State& state) {
  store_fan_out(state, true);
}

void BM_Store_FanOutCopies(benchmark::State& state) {
  store_fan_out(state, false);
}

void BM_Paired_FanOutShared_vs_Copies(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  FanOutSide shared(k, true);
  FanOutSide copies(k, false);
  if (!shared.setup_and_check(state) || !copies.setup_and_check(state)) return;
  run_paired(
      state, [&] { return shared.append(state); }, [&] { return copies.append(state); });
}

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

}  // namespace parley::bench
