// SPDX-License-Identifier: AGPL-3.0-or-later
// PgStore over a primary with a synchronous streaming-replication standby, on real servers: what
// the cluster promises ("an acknowledged message is committed, with a synchronous standby when
// configured") holds when the primary is lost, and an append is not acknowledged while the
// standby cannot confirm it.

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "parley/store/pg_store.h"
#include "postgres_process.h"
#include "store_fixture.h"

namespace parley::store::testing {
namespace {

constexpr char kStandbyName[] = "parley_standby";

std::unique_ptr<PgStore> open_store(const PostgresProcess& server) {
  // Two connections for more senders, so that some appends are coalesced into shared commits.
  auto store = PgStore::open(
      {.conninfo = server.conninfo("parley"), .max_connections = 2, .connect_timeout_s = 2});
  EXPECT_TRUE(store.ok()) << store.status().to_string();
  return store.ok() ? std::move(store).value() : nullptr;
}

AppendRequest message_to(const DeviceAddress& to, const std::string& body) {
  AppendRequest request;
  request.envelopes = {envelope_to(to, body)};
  request.dedupe_key = to_bytes(body);
  request.now_ms = 1;
  return request;
}

// A primary with database "parley" and one standby that it waits for on every commit.
class PgStandbyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(primary_.ok()) << primary_.failure();
    ASSERT_TRUE(primary_.create_database("parley")) << primary_.failure();
    standby_ = PostgresProcess::start_standby_of(primary_, kStandbyName);
    ASSERT_TRUE(standby_->ok()) << standby_->failure();
    // Only now, so the standby's copy does not name a standby of its own after promotion.
    ASSERT_TRUE(primary_.set_synchronous_standby_names(kStandbyName)) << primary_.failure();
    ASSERT_TRUE(primary_.wait_for_sync_standby(kStandbyName)) << primary_.failure();
    store_ = open_store(primary_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->create_account(make_account(1, "alice")).ok());
    for (DeviceId device = 1; device <= kSenders; ++device) {
      ASSERT_TRUE(store_->add_device(make_device(1, device), kSenders).ok());
    }
  }

  // Stops the standby, appends, and checks that the append waits for the standby (its backend
  // shows wait_event SyncRep, and the append has not returned), then brings the standby back:
  // the append is acknowledged and stored.
  void expect_append_waits_for_the_standby();

  static constexpr DeviceId kSenders = 4;
  PostgresProcess primary_;
  std::unique_ptr<PostgresProcess> standby_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(PgStandbyTest, AnAppendAcknowledgedWithASynchronousStandbySurvivesTheLossOfThePrimary) {
  // Senders on their own threads, each to its own mailbox, in order; more senders than connections,
  // so commits are usually coalesced too (timing decides; not asserted).
  constexpr int kMessagesPerSender = 15;
  std::vector<std::vector<AppendResult>> acked(kSenders);
  std::vector<std::thread> senders;
  for (DeviceId device = 1; device <= kSenders; ++device) {
    senders.emplace_back([&, device] {
      for (int i = 0; i < kMessagesPerSender; ++i) {
        const std::string body = "to " + std::to_string(device) + " #" + std::to_string(i);
        auto result = store_->append_messages(message_to(address(1, device), body));
        if (!result.ok()) return;  // counted below: fewer acks than messages
        acked[device - 1].push_back(std::move(result).value());
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  // The primary is lost the moment the last ack is in.
  primary_.kill9();
  store_.reset();
  for (const auto& acks : acked) {
    ASSERT_EQ(acks.size(), static_cast<std::size_t>(kMessagesPerSender));
  }

  ASSERT_TRUE(standby_->promote()) << standby_->failure();
  auto promoted = open_store(*standby_);
  ASSERT_NE(promoted, nullptr);
  for (DeviceId device = 1; device <= kSenders; ++device) {
    auto stored = promoted->read_messages(address(1, device), 0, 1000);
    ASSERT_TRUE(stored.ok()) << stored.status().to_string();
    ASSERT_EQ(stored->size(), static_cast<std::size_t>(kMessagesPerSender)) << "device " << device;
    for (int i = 0; i < kMessagesPerSender; ++i) {
      const StoredEnvelope& envelope = (*stored)[i];
      ASSERT_EQ(acked[device - 1][i].copies.size(), 1u);
      EXPECT_EQ(envelope.seq, acked[device - 1][i].copies[0].seq);
      EXPECT_EQ(as_string_view(envelope.payload),
                "to " + std::to_string(device) + " #" + std::to_string(i));
    }
  }
  // The dedupe records came along: a client's retry after the failover is recognised.
  auto retry = promoted->append_messages(message_to(address(1, 1), "to 1 #0"));
  ASSERT_TRUE(retry.ok()) << retry.status().to_string();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->copies, acked[0][0].copies);
  // And the new primary takes new writes (it has no synchronous standby of its own).
  EXPECT_TRUE(promoted->append_messages(message_to(address(1, 1), "after failover")).ok());
}

TEST_F(PgStandbyTest, WithTheSynchronousStandbyDownAnAppendWaitsUntilItIsBack) {
  ASSERT_TRUE(store_->append_messages(message_to(address(1, 1), "before")).ok());
  expect_append_waits_for_the_standby();
}

void PgStandbyTest::expect_append_waits_for_the_standby() {
  standby_->stop();

  std::future<Result<AppendResult>> append = std::async(std::launch::async, [&] {
    return store_->append_messages(message_to(address(1, 1), "while the standby is down"));
  });
  // Deterministic evidence that the commit waits for the standby: its backend waits on SyncRep.
  bool seen_waiting = false;
  for (int poll = 0; !seen_waiting && poll < 1500; ++poll) {  // a bound for a broken setup only
    seen_waiting = primary_.query_value("postgres",
                                        "SELECT (count(*) > 0)::text FROM pg_stat_activity"
                                        " WHERE wait_event = 'SyncRep'") == "true";
    if (!seen_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const bool returned_early = append.wait_for(std::chrono::seconds(0)) == std::future_status::ready;

  // Whatever was seen, release the append before asserting, or the future's destructor would wait
  // for ever: the standby back, or else no synchronous standby at all.
  const bool standby_back = standby_->start();
  if (!standby_back) primary_.set_synchronous_standby_names("");
  Result<AppendResult> result = append.get();

  EXPECT_TRUE(seen_waiting) << primary_.failure();
  EXPECT_FALSE(returned_early);
  ASSERT_TRUE(standby_back) << standby_->failure();
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  auto stored = store_->read_messages(address(1, 1), 0, 10);
  ASSERT_TRUE(stored.ok()) << stored.status().to_string();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ(as_string_view((*stored)[1].payload), "while the standby is down");
  EXPECT_EQ((*stored)[1].seq, result->copies[0].seq);
  // The standby caught up and confirms again: the next append needs it and is acknowledged.
  EXPECT_TRUE(primary_.wait_for_sync_standby(kStandbyName)) << primary_.failure();
  EXPECT_TRUE(store_->append_messages(message_to(address(1, 1), "after")).ok());
}

}  // namespace
}  // namespace parley::store::testing
