// SPDX-License-Identifier: AGPL-3.0-or-later
// Bad input, connection lifetime and shutdown: malformed and oversize frames, late worker
// completions after on_close, request limits per connection, graceful shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "test_harness.h"

namespace parley::server::testing {
namespace {

class FramesTest : public ::testing::Test, public CoreFixture {};

void expect_refused(Client& client, ErrorCode code, std::uint64_t id = 0) {
  auto responses = client.responses();
  ASSERT_FALSE(responses.empty());
  EXPECT_EQ(status_of(responses.back()), code) << responses.back().message();
  EXPECT_EQ(responses.back().id(), id);
  EXPECT_FALSE(responses.back().message().empty());
  EXPECT_EQ(client.sink().close_reason(), code);
}

TEST_F(FramesTest, GarbageGetsMalformedInputAndClose) {
  Client client(*core);
  Bytes garbage = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff};
  client.send_raw(garbage);
  expect_refused(client, ErrorCode::kMalformedInput);
  // Nothing more is processed on this connection.
  std::size_t before = client.sink().frames().size();
  wire::Request ping;
  ping.mutable_ping();
  ping.set_id(5);
  client.send_raw(proto::encode_frame(proto::request_frame(ping)));
  EXPECT_EQ(client.sink().frames().size(), before);
}

TEST_F(FramesTest, OversizeFrameGetsTooLargeAndClose) {
  Client client(*core);
  Bytes big(core->config().limits.max_frame_bytes + 1, 0);
  client.send_raw(big);
  expect_refused(client, ErrorCode::kTooLarge);
}

TEST_F(FramesTest, OversizeFieldGetsTooLargeWithTheRequestId) {
  Client client(*core);
  wire::Request r;
  r.set_id(42);
  auto* send = r.mutable_send_message();
  send->set_recipient_account_id(std::string(16, 'a'));
  send->set_client_message_id("message-1");
  auto* copy = send->add_copies();
  copy->set_device_id(1);
  copy->set_ciphertext(std::string(core->config().limits.max_ciphertext_bytes + 1, 'c'));
  client.send_raw(proto::encode_frame(proto::request_frame(r)));
  expect_refused(client, ErrorCode::kTooLarge, 42);
}

TEST_F(FramesTest, WrongVersionAndWrongKindAreRefused) {
  Client v2(*core);
  wire::Request ping;
  ping.set_id(3);
  ping.mutable_ping();
  wire::Frame frame = proto::request_frame(ping);
  frame.set_version(2);
  v2.send_raw(as_bytes(frame.SerializeAsString()));
  expect_refused(v2, ErrorCode::kUnsupportedVersion, 3);

  Client pusher(*core);
  wire::Push push;
  push.mutable_queue_empty();
  pusher.send_raw(proto::encode_frame(proto::push_frame(push)));
  expect_refused(pusher, ErrorCode::kProtocolViolation);
}

TEST_F(FramesTest, PingAnswersWithServerTime) {
  Client client(*core);
  wire::Request ping;
  ping.mutable_ping();
  wire::Response r = client.call(ping);
  EXPECT_EQ(status_of(r), ErrorCode::kOk);
  EXPECT_EQ(r.ping().server_time_ms(), unix_millis(clock.now()));
  EXPECT_GE(metrics.value("parley_frames_total", "type=\"ping\""), 1);
}

TEST_F(FramesTest, FramesAfterOnCloseAreIgnored) {
  Client client(*core);
  client.close();
  wire::Request ping;
  ping.mutable_ping();
  client.send_raw(proto::encode_frame(proto::request_frame(ping)));
  EXPECT_TRUE(client.sink().frames().empty());
}

// A Store whose append_messages waits until opened, to hold a request inside a worker.
class GatedStore final : public store::Store {
 public:
  explicit GatedStore(store::Store& inner) : inner_(inner) {}
  void close_gate() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open_gate() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  bool wait_for_waiter() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ > 0; });
  }

  Result<store::AppendResult> append_messages(const store::AppendRequest& request) override {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
      --waiting_;
    }
    return inner_.append_messages(request);
  }

  Status create_account(const store::Account& a) override { return inner_.create_account(a); }
  Result<store::Account> get_account(const store::AccountId& id) const override {
    return inner_.get_account(id);
  }
  Result<store::Account> find_account_by_username(std::string_view u) const override {
    return inner_.find_account_by_username(u);
  }
  Result<store::Account> find_account_by_identity_key(ByteView k) const override {
    return inner_.find_account_by_identity_key(k);
  }
  Status set_username(const store::AccountId& id, std::optional<std::string_view> u) override {
    return inner_.set_username(id, u);
  }
  Status set_signed_device_list(const store::AccountId& id, ByteView l) override {
    return inner_.set_signed_device_list(id, l);
  }
  Status delete_account(const store::AccountId& id) override { return inner_.delete_account(id); }
  Status add_device(const store::Device& d, std::uint32_t m) override {
    return inner_.add_device(d, m);
  }
  Result<store::Device> get_device(const store::DeviceAddress& a) const override {
    return inner_.get_device(a);
  }
  Result<std::vector<store::Device>> list_devices(const store::AccountId& id) const override {
    return inner_.list_devices(id);
  }
  Status touch_device(const store::DeviceAddress& a, std::int64_t t) override {
    return inner_.touch_device(a, t);
  }
  Status remove_device(const store::DeviceAddress& a) override { return inner_.remove_device(a); }
  Status set_signed_prekey(const store::DeviceAddress& a, const store::SignedPrekey& p) override {
    return inner_.set_signed_prekey(a, p);
  }
  Result<store::SignedPrekey> get_signed_prekey(const store::DeviceAddress& a) const override {
    return inner_.get_signed_prekey(a);
  }
  Status add_one_time_prekeys(const store::DeviceAddress& a,
                              std::span<const store::OneTimePrekey> p, std::uint32_t m) override {
    return inner_.add_one_time_prekeys(a, p, m);
  }
  Result<std::optional<store::OneTimePrekey>> claim_one_time_prekey(
      const store::DeviceAddress& a) override {
    return inner_.claim_one_time_prekey(a);
  }
  Result<std::uint64_t> count_one_time_prekeys(const store::DeviceAddress& a) const override {
    return inner_.count_one_time_prekeys(a);
  }
  Result<std::vector<store::StoredEnvelope>> read_messages(const store::DeviceAddress& a,
                                                           std::uint64_t after,
                                                           std::uint32_t max) const override {
    return inner_.read_messages(a, after, max);
  }
  Result<std::uint64_t> delete_messages(const store::DeviceAddress& a,
                                        std::span<const std::uint64_t> s) override {
    return inner_.delete_messages(a, s);
  }
  Result<std::uint64_t> count_messages(const store::DeviceAddress& a) const override {
    return inner_.count_messages(a);
  }
  Result<std::uint64_t> purge_messages_older_than(std::int64_t c) override {
    return inner_.purge_messages_older_than(c);
  }
  Result<std::uint64_t> purge_dedupe_keys_older_than(std::int64_t c) override {
    return inner_.purge_dedupe_keys_older_than(c);
  }
  store::StoreStats stats() const override { return inner_.stats(); }

 private:
  store::Store& inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int waiting_ = 0;
};

struct GatedFixture {
  GatedFixture() : gated(memory) {
    auto config = CoreFixture::test_config();
    config.worker_threads = 2;
    core = std::make_unique<ServerCore>(gated, blobs, clock, metrics, config);
  }
  FakeClock clock;
  store::MemoryStore memory;
  GatedStore gated;
  store::MemoryBlobStore blobs;
  Metrics metrics;
  std::unique_ptr<ServerCore> core;
};

Bytes send_frame(const store::AccountId& to, const std::string& id) {
  wire::Request r;
  r.set_id(99);
  auto* send = r.mutable_send_message();
  send->set_recipient_account_id(account_bytes(to));
  send->set_client_message_id(id);
  auto* copy = send->add_copies();
  copy->set_device_id(1);
  copy->set_ciphertext("late");
  return proto::encode_frame(proto::request_frame(r));
}

TEST(FramesLifetime, LateCompletionAfterOnCloseIsSafeAndSilent) {
  GatedFixture f;
  Identity a, b;
  {
    Client alice(*f.core);
    alice.sign_up_and_in(a);
  }
  std::shared_ptr<RecordingSink> sink;
  {
    auto bob = std::make_unique<Client>(*f.core);
    bob->sign_up_and_in(b);
    f.gated.close_gate();
    bob->send_raw(send_frame(a.account, "message-late"));
    ASSERT_TRUE(f.gated.wait_for_waiter());  // the request is inside a worker now
    bob->close();
    // Keep only the sink alive to inspect it; the handler is destroyed here.
    sink = bob->sink_ptr();
  }
  std::size_t frames_at_close = sink->frames().size();
  f.gated.open_gate();
  f.core->shutdown();                                              // waits for the worker to finish
  EXPECT_EQ(sink->frames().size(), frames_at_close);               // no sink call after on_close
  EXPECT_EQ(f.memory.count_messages({a.account, 1}).value(), 1u);  // the started write completed
}

TEST(FramesLifetime, ShutdownFinishesAcceptedRequestsAndRefusesNewOnes) {
  GatedFixture f;
  Identity a, b, c;
  Client alice(*f.core), bob(*f.core), carol(*f.core);
  alice.sign_up_and_in(a);
  alice.close();
  bob.sign_up_and_in(b);
  carol.sign_up_and_in(c);
  f.gated.close_gate();
  bob.send_raw(send_frame(a.account, "message-0001"));
  ASSERT_TRUE(f.gated.wait_for_waiter());
  std::thread stopper([&] { f.core->shutdown(); });
  // shutdown() is now waiting for bob's request; a new request is refused.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  wire::Request ping;
  ping.mutable_ping();
  ping.set_id(7);
  carol.send_raw(proto::encode_frame(proto::request_frame(ping)));
  f.gated.open_gate();
  stopper.join();
  EXPECT_EQ(carol.sink().close_reason(), ErrorCode::kUnavailable);
  ASSERT_FALSE(carol.responses().empty());
  EXPECT_EQ(status_of(carol.responses().back()), ErrorCode::kUnavailable);
  // Bob's accepted request ran to the end: stored and acknowledged.
  EXPECT_EQ(f.memory.count_messages({a.account, 1}).value(), 1u);
  auto responses = bob.responses();
  ASSERT_FALSE(responses.empty());
  EXPECT_EQ(responses.back().id(), 99u);
  EXPECT_EQ(status_of(responses.back()), ErrorCode::kOk);
}

TEST(FramesLimits, TooManyPendingRequestsCloseTheConnection) {
  GatedFixture f;
  Identity a, b;
  Client alice(*f.core), bob(*f.core);
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  f.gated.close_gate();
  bob.send_raw(send_frame(a.account, "message-0000"));  // holds the connection's queue
  ASSERT_TRUE(f.gated.wait_for_waiter());
  wire::Request ping;
  ping.mutable_ping();
  for (std::uint32_t i = 0; i <= f.core->config().max_pending_requests_per_connection; ++i) {
    bob.send_raw(proto::encode_frame(proto::request_frame(ping)));
  }
  f.gated.open_gate();
  ASSERT_TRUE(bob.sink().wait_until([](const std::vector<wire::Frame>&) { return true; }));
  f.core->shutdown();
  EXPECT_EQ(bob.sink().close_reason(), ErrorCode::kRateLimited);
  EXPECT_EQ(status_of(bob.responses().back()), ErrorCode::kRateLimited);
}

// Mutated valid frames, on a signed-in connection and a fresh one: every frame is answered or
// ends the connection with a numbered error; nothing crashes (run under ASan too).
TEST_F(FramesTest, MutatedFramesAreAnsweredNeverCrash) {
  Identity a;
  Client alice(*core);
  alice.sign_up_and_in(a);
  ASSERT_EQ(status_of(alice.upload_prekeys(a, 1, 3)), ErrorCode::kOk);
  std::vector<Bytes> seeds;
  {
    wire::Request r;
    r.mutable_ping();
    seeds.push_back(proto::encode_frame(proto::request_frame(r)));
    r.mutable_get_prekey_bundle()->set_account_id(account_bytes(a.account));
    seeds.push_back(proto::encode_frame(proto::request_frame(r)));
    r.mutable_ack_messages()->add_seqs(1);
    seeds.push_back(proto::encode_frame(proto::request_frame(r)));
    seeds.push_back(send_frame(a.account, "message-fuzz"));
    r.mutable_lookup_username()->set_username("somebody");
    seeds.push_back(proto::encode_frame(proto::request_frame(r)));
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 400; ++round) {
    Bytes frame = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !frame.empty(); ++e) {
      std::size_t at = rng() % frame.size();
      switch (rng() % 3) {
        case 0:
          frame[at] = static_cast<std::uint8_t>(rng());
          break;
        case 1:
          frame.erase(frame.begin() + static_cast<std::ptrdiff_t>(at));
          break;
        default:
          frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(at),
                       static_cast<std::uint8_t>(rng()));
      }
    }
    Client fresh(*core);
    fresh.send_raw(frame);
    Client signed_in(*core);
    ASSERT_EQ(status_of(signed_in.authenticate(a)), ErrorCode::kOk);
    std::size_t before = signed_in.responses().size();
    signed_in.send_raw(frame);
    for (Client* c : {&fresh, &signed_in}) {
      auto responses = c->responses();
      ASSERT_FALSE(responses.empty());
      EXPECT_TRUE(error_code_from_number(responses.back().status()).has_value());
    }
    EXPECT_EQ(signed_in.responses().size(), before + 1);
  }
}

}  // namespace
}  // namespace parley::server::testing
