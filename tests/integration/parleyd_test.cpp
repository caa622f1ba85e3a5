// SPDX-License-Identifier: AGPL-3.0-or-later
//
// The real parleyd binary, started as a child process on loopback with a temp data directory and
// the RocksDB store, driven over TLS 1.3 WebSocket with parley_proto frames.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "parley/crypto/xeddsa.h"
#include "parleyd_process.h"
#include "proto_client.h"
#include "test_client.h"
#include "test_support.h"

namespace parley::testing {
namespace {

Bytes text(const std::string& s) {
  return to_bytes(s);
}

class ParleydTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ParleydProcess>(dir_.path(), extra_config());
    Status started = server_->start();
    ASSERT_TRUE(started.ok()) << started.to_string();
  }
  void TearDown() override {
    if (server_ && server_->running()) {
      EXPECT_EQ(server_->terminate(), 0) << server_->log();
    }
  }
  virtual std::vector<std::string> extra_config() const { return {}; }

  std::unique_ptr<ProtoClient> client() const {
    return std::make_unique<ProtoClient>(server_->port());
  }
  // A connected, registered and authenticated client.
  std::unique_ptr<ProtoClient> signed_in(TestAccount* account) const {
    auto c = client();
    EXPECT_TRUE(c->connect().ok());
    auto registered = c->register_account();
    EXPECT_TRUE(registered.ok()) << registered.status().to_string();
    if (!registered.ok()) return c;
    *account = std::move(*registered);
    auto auth = c->authenticate(*account);
    EXPECT_TRUE(auth.ok()) << auth.status().to_string();
    return c;
  }

  TempDir dir_;
  std::unique_ptr<ParleydProcess> server_;
};

TEST_F(ParleydTest, AdminHealthAndMetrics) {
  auto health = http_get("127.0.0.1", server_->admin_port(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  auto metrics = http_get("127.0.0.1", server_->admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("# TYPE parley_gateway_connections_open gauge"), std::string::npos);
  EXPECT_NE(metrics->body.find("parley_gateway_frames_received_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("parley_frames_total"), std::string::npos)
      << "core metrics are missing:\n"
      << metrics->body;
}

TEST_F(ParleydTest, TakesSettingsFromTheConfigFile) {
  const std::string log = server_->log();
  EXPECT_NE(log.find("proof of work 0 bits"), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1:" + std::to_string(server_->port())), std::string::npos);
  // A generated certificate, its key readable by the owner only.
  struct stat st {};
  ASSERT_EQ(::stat((dir_.path() + "/tls/server-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ParleydConfig, RefusesUnknownConfigKeys) {
  TempDir dir;
  ParleydProcess server(dir.path(), {"no_such_setting = 1"});
  Status started = server.start(std::chrono::seconds(10));
  EXPECT_FALSE(started.ok());
  EXPECT_NE(server.log().find("unknown key 'no_such_setting'"), std::string::npos) << server.log();
}

TEST(ParleydGenCert, WritesACertificateAndAPrivateKey) {
  TempDir dir;
  const std::string command =
      parleyd_binary() + " gen-cert --key-type ed25519 --out " + dir.path() + "/tls > /dev/null";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread runs here
  ASSERT_EQ(std::system(command.c_str()), 0);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/tls/server-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/tls/server-cert.pem").c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
}

TEST_F(ParleydTest, LooksLikeAnOrdinaryHttpsSiteAndRefusesTls12) {
  auto index = https_get("127.0.0.1", server_->port(), "/");
  ASSERT_TRUE(index.ok()) << index.status().to_string();
  EXPECT_EQ(index->status, 200);
  auto probe = https_get("127.0.0.1", server_->port(), "/api/v1/stream");
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->status, 404);

  ClientOptions wrong_path;
  wrong_path.port = server_->port();
  wrong_path.path = "/ws";
  EXPECT_FALSE(TlsWebSocketClient(wrong_path).connect().ok());

  ClientOptions old_tls;
  old_tls.port = server_->port();
  old_tls.tls12_only = true;
  Status refused = TlsWebSocketClient(old_tls).connect();
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("tls handshake"), std::string::npos);
}

TEST_F(ParleydTest, OversizeFrameClosesTheConnection) {
  ClientOptions options;
  options.port = server_->port();
  TlsWebSocketClient ws(options);
  ASSERT_TRUE(ws.connect().ok());
  (void)ws.send(Bytes(256 * 1024 + 1, 0));
  EXPECT_FALSE(ws.receive().ok());
  EXPECT_EQ(ws.close_code(), 1009);
}

TEST_F(ParleydTest, TwoAccountsExchangeMessagesInOrder) {
  TestAccount alice;
  TestAccount bob;
  auto a = signed_in(&alice);
  auto b = signed_in(&bob);
  ASSERT_FALSE(alice.account_id.empty());
  ASSERT_FALSE(bob.account_id.empty());
  ASSERT_NE(alice.account_id, bob.account_id);

  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    auto sent = a->send_message(bob.account_id, "msg-id-" + std::to_string(i),
                                {{1, text("ciphertext " + std::to_string(i))}});
    ASSERT_TRUE(sent.ok()) << sent.status().to_string();
    ASSERT_EQ(sent->status(), 0u) << sent->message();
  }
  std::uint64_t last_seq = 0;
  std::vector<std::uint64_t> seqs;
  for (int i = 0; i < kMessages;) {
    auto push = b->next_push();
    ASSERT_TRUE(push.ok()) << push.status().to_string();
    if (!push->has_message()) continue;  // e.g. queue_empty after sign-in
    const auto& envelope = push->message();
    EXPECT_EQ(envelope.ciphertext(), "ciphertext " + std::to_string(i));
    EXPECT_EQ(Bytes(envelope.sender_account_id().begin(), envelope.sender_account_id().end()),
              alice.account_id);
    EXPECT_GT(envelope.seq(), last_seq);
    last_seq = envelope.seq();
    seqs.push_back(envelope.seq());
    ++i;
  }
  EXPECT_TRUE(b->ack(seqs).ok());

  // The store's durability counters reach /metrics: every copy written, each behind an fsync.
  auto metrics = http_get("127.0.0.1", server_->admin_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  auto metric = [&](const std::string& name) {
    const std::string prefix = "\n" + name + " ";
    const std::size_t at = metrics->body.find(prefix);
    return at == std::string::npos ? -1.0 : std::stod(metrics->body.substr(at + prefix.size()));
  };
  EXPECT_GE(metric("parley_store_envelopes_written_total"), kMessages) << metrics->body;
  EXPECT_GE(metric("parley_store_wal_syncs_total"), 1);
  EXPECT_LE(metric("parley_store_wal_syncs_total"), metric("parley_store_engine_writes_total"));
  EXPECT_GT(metric("parley_store_envelopes_per_fsync"), 0);
}

TEST_F(ParleydTest, OfflineDeliveryAfterReconnectAndDuplicateRetry) {
  TestAccount alice;
  TestAccount bob;
  auto a = signed_in(&alice);
  {
    auto b = signed_in(&bob);
    ASSERT_TRUE(b->ws().close().ok());
  }
  for (int i = 0; i < 5; ++i) {
    auto sent = a->send_message(bob.account_id, "offline-" + std::to_string(i),
                                {{1, text("offline " + std::to_string(i))}});
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->status(), 0u) << sent->message();
  }
  // A retry of the last one (same client message id) is stored once.
  auto retry = a->send_message(bob.account_id, "offline-4", {{1, text("offline 4")}});
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->status(), 0u) << retry->message();

  auto b = client();
  ASSERT_TRUE(b->connect().ok());
  auto queued = b->authenticate(bob);
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  EXPECT_EQ(*queued, 5u);
  std::vector<std::string> received;
  std::vector<std::uint64_t> seqs;
  bool queue_empty = false;
  while (!queue_empty) {
    auto push = b->next_push();
    ASSERT_TRUE(push.ok()) << push.status().to_string();
    if (push->has_queue_empty()) queue_empty = true;
    if (push->has_message()) {
      received.push_back(push->message().ciphertext());
      seqs.push_back(push->message().seq());
    }
  }
  EXPECT_EQ(received, (std::vector<std::string>{"offline 0", "offline 1", "offline 2", "offline 3",
                                                "offline 4"}));
  ASSERT_TRUE(b->ack(seqs).ok());
  // Nothing more arrives: the duplicate was not stored twice.
  EXPECT_EQ(b->next_push(std::chrono::milliseconds(500)).status().code(), ErrorCode::kTimeout);
}

TEST_F(ParleydTest, DeviceSetMismatchNamesMissingAndExtraDevices) {
  TestAccount alice;
  TestAccount bob;
  auto a = signed_in(&alice);
  auto b = signed_in(&bob);
  auto sent = a->send_message(bob.account_id, "mismatch-1", {{2, text("for a device bob lacks")}});
  ASSERT_TRUE(sent.ok());
  EXPECT_NE(sent->status(), 0u);
  ASSERT_TRUE(sent->has_device_mismatch()) << sent->message();
  EXPECT_EQ(std::vector<std::uint32_t>(sent->device_mismatch().missing_devices().begin(),
                                       sent->device_mismatch().missing_devices().end()),
            std::vector<std::uint32_t>{1});
  EXPECT_EQ(std::vector<std::uint32_t>(sent->device_mismatch().extra_devices().begin(),
                                       sent->device_mismatch().extra_devices().end()),
            std::vector<std::uint32_t>{2});
  // Nothing was stored for bob.
  auto push = b->next_push(std::chrono::milliseconds(500));
  EXPECT_TRUE(!push.ok() || !push->has_message());
}

TEST_F(ParleydTest, ConcurrentPrekeyFetchesHandOutEachKeyOnce) {
  TestAccount bob;
  auto b = signed_in(&bob);
  constexpr int kKeys = 10;
  wire::Request upload;
  auto* body = upload.mutable_upload_prekeys();
  auto signed_key = crypto::KeyPair::generate();
  Bytes signed_public = signed_key.public_key.serialize();
  Bytes signature = crypto::xeddsa_sign(bob.identity.private_key, signed_public);
  body->mutable_signed_prekey()->set_key_id(1);
  body->mutable_signed_prekey()->set_public_key(signed_public.data(), signed_public.size());
  body->mutable_signed_prekey()->set_signature(signature.data(), signature.size());
  for (int i = 0; i < kKeys; ++i) {
    Bytes key = crypto::KeyPair::generate().public_key.serialize();
    auto* one = body->add_one_time_prekeys();
    one->set_key_id(static_cast<std::uint32_t>(100 + i));
    one->set_public_key(key.data(), key.size());
  }
  auto uploaded = b->call(std::move(upload));
  ASSERT_TRUE(uploaded.ok());
  ASSERT_EQ(uploaded->status(), 0u) << uploaded->message();

  constexpr int kFetchers = 4;
  constexpr int kFetchesEach = 5;  // 20 fetches for 10 keys
  std::mutex mutex;
  std::vector<std::uint32_t> handed_out;
  std::atomic<int> without_key{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kFetchers; ++t) {
    threads.emplace_back([&] {
      TestAccount me;
      auto c = signed_in(&me);
      for (int i = 0; i < kFetchesEach; ++i) {
        wire::Request fetch;
        fetch.mutable_get_prekey_bundle()->set_account_id(bob.account_id.data(),
                                                          bob.account_id.size());
        fetch.mutable_get_prekey_bundle()->set_device_id(1);
        auto bundle = c->call(std::move(fetch));
        if (!bundle.ok() || bundle->status() != 0 ||
            bundle->get_prekey_bundle().devices_size() != 1) {
          ++failures;
          continue;
        }
        const auto& device = bundle->get_prekey_bundle().devices(0);
        if (device.has_one_time_prekey()) {
          std::lock_guard lock(mutex);
          handed_out.push_back(device.one_time_prekey().key_id());
        } else {
          ++without_key;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(handed_out.size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(std::set<std::uint32_t>(handed_out.begin(), handed_out.end()).size(), handed_out.size())
      << "a one-time prekey was handed out twice";
  EXPECT_EQ(without_key, kFetchers * kFetchesEach - kKeys);
}

TEST_F(ParleydTest, SigtermLosesNothingAcknowledged) {
  TestAccount alice;
  TestAccount bob;
  { auto b = signed_in(&bob); }
  auto a = signed_in(&alice);
  // Send while the server is told to stop; every send it acknowledged must survive.
  std::set<std::string> acknowledged;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_EQ(server_->terminate(), 0) << server_->log();
  });
  for (int i = 0; i < 2000; ++i) {
    std::string id = "sigterm-" + std::to_string(i);
    auto sent = a->send_message(bob.account_id, id, {{1, text(id)}});
    if (!sent.ok()) break;  // the connection closed
    if (sent->status() == 0) acknowledged.insert(id);
  }
  stopper.join();
  ASSERT_FALSE(acknowledged.empty());
  std::cout << acknowledged.size() << " sends acknowledged before the shutdown\n";
  EXPECT_NE(server_->log().find("stopped cleanly"), std::string::npos) << server_->log();

  ASSERT_TRUE(server_->start().ok());
  auto b = client();
  ASSERT_TRUE(b->connect().ok());
  auto queued = b->authenticate(bob);
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  std::set<std::string> delivered;
  while (delivered.size() < *queued) {
    auto push = b->next_push();
    ASSERT_TRUE(push.ok()) << push.status().to_string();
    if (!push->has_message()) continue;
    delivered.insert(push->message().ciphertext());
    ASSERT_TRUE(b->ack({push->message().seq()}).ok());
  }
  for (const auto& id : acknowledged) EXPECT_TRUE(delivered.count(id) == 1) << id << " was lost";
}

TEST_F(ParleydTest, KillDashNineAfterAckStillDelivers) {
  TestAccount alice;
  TestAccount bob;
  { auto b = signed_in(&bob); }
  {
    auto a = signed_in(&alice);
    auto sent = a->send_message(bob.account_id, "before-crash", {{1, text("survives a crash")}});
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(sent->status(), 0u);  // acknowledged: it is on disk
  }
  server_->kill9();
  ASSERT_TRUE(server_->start().ok()) << server_->log();
  auto b = client();
  ASSERT_TRUE(b->connect().ok());
  auto queued = b->authenticate(bob);
  ASSERT_TRUE(queued.ok()) << queued.status().to_string();
  EXPECT_EQ(*queued, 1u);
  for (;;) {
    auto push = b->next_push();
    ASSERT_TRUE(push.ok()) << push.status().to_string();
    if (!push->has_message()) continue;
    EXPECT_EQ(push->message().ciphertext(), "survives a crash");
    break;
  }
}

// The gateway drops a client that stops reading while the core pushes to it.
class SmallQueueParleydTest : public ParleydTest {
 protected:
  std::vector<std::string> extra_config() const override {
    return {"max_queued_frames = 8", "max_queued_bytes = 262144"};
  }
};

TEST_F(SmallQueueParleydTest, SlowConsumerIsDropped) {
  TestAccount alice;
  TestAccount bob;
  ClientOptions sleepy;
  sleepy.receive_buffer_bytes = 4096;
  auto b = std::make_unique<ProtoClient>(server_->port(), sleepy);
  ASSERT_TRUE(b->connect().ok());
  auto registered = b->register_account();
  ASSERT_TRUE(registered.ok());
  bob = std::move(*registered);
  ASSERT_TRUE(b->authenticate(bob).ok());
  // Bob never reads again. Alice sends more than socket buffers and the queue can hold.
  auto a = signed_in(&alice);
  const Bytes big(60UL * 1024, 0x5a);
  for (int i = 0; i < 200; ++i) {
    auto sent = a->send_message(bob.account_id, "flood-message-" + std::to_string(i), {{1, big}});
    ASSERT_TRUE(sent.ok()) << i << ": " << sent.status().to_string();
    ASSERT_EQ(sent->status(), 0u) << i << ": " << sent->message();
  }
  bool dropped = false;
  for (int i = 0; i < 100 && !dropped; ++i) {
    auto metrics = http_get("127.0.0.1", server_->admin_port(), "/metrics");
    dropped = metrics.ok() &&
              metrics->body.find("parley_gateway_slow_consumer_drops_total 1") != std::string::npos;
    if (!dropped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(dropped);
  // Alice is unaffected.
  wire::Request ping;
  ping.mutable_ping();
  auto pong = a->call(std::move(ping));
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->status(), 0u);
}

}  // namespace
}  // namespace parley::testing
