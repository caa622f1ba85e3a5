// SPDX-License-Identifier: AGPL-3.0-or-later
// Conformance: mailboxes — append, dedupe, read, ack, caps, retention — on every backend.

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store_fixture.h"

namespace parley::store::testing {
namespace {

template <typename Backend>
class MailboxTest : public StoreTest<Backend> {
 protected:
  void SetUp() override {
    StoreTest<Backend>::SetUp();
    this->create_account_with_devices(1, 2);
    this->create_account_with_devices(2, 1);
  }

  AppendRequest request(std::vector<NewEnvelope> envelopes, const std::string& dedupe_key = {},
                        std::uint64_t cap = 0) {
    AppendRequest r;
    r.envelopes = std::move(envelopes);
    r.dedupe_key = to_bytes(dedupe_key);
    r.now_ms = 5000;
    r.max_queue_per_device = cap;
    return r;
  }

  std::vector<std::string> payloads(const DeviceAddress& to) {
    std::vector<std::string> out;
    auto messages = this->store().read_messages(to, 0, 1000);
    EXPECT_TRUE(messages.ok());
    for (const StoredEnvelope& m : *messages) out.emplace_back(as_string_view(m.payload));
    return out;
  }
};
TYPED_TEST_SUITE(MailboxTest, Backends, BackendNames);

TYPED_TEST(MailboxTest, AppendAssignsPerDeviceSequenceNumbersInRequestOrder) {
  auto first = this->store().append_messages(
      this->request({envelope_to(address(1, 1), "a1"), envelope_to(address(1, 2), "a2"),
                     envelope_to(address(2, 1), "b1")}));
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->copies, (std::vector<DeliveredCopy>{
                               {address(1, 1), 1}, {address(1, 2), 1}, {address(2, 1), 1}}));
  auto second = this->store().append_messages(
      this->request({envelope_to(address(1, 1), "x"), envelope_to(address(1, 1), "y")}));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->copies, (std::vector<DeliveredCopy>{{address(1, 1), 2}, {address(1, 1), 3}}));
  EXPECT_EQ(this->payloads(address(1, 1)), (std::vector<std::string>{"a1", "x", "y"}));
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 3u);
}

TYPED_TEST(MailboxTest, ReadReturnsFullEnvelopesAfterASeqUpToACount) {
  NewEnvelope sealed{address(1, 1), std::nullopt, 777, Bytes{0, 1, 2}};
  ASSERT_TRUE(this->store()
                  .append_messages(this->request({envelope_to(address(1, 1), "one", 10), sealed,
                                                  envelope_to(address(1, 1), "three", 30)}))
                  .ok());
  auto all = this->store().read_messages(address(1, 1), 0, 10);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], (StoredEnvelope{1, address(99, 1), 10, to_bytes("one")}));
  EXPECT_EQ((*all)[1], (StoredEnvelope{2, std::nullopt, 777, Bytes{0, 1, 2}}));
  auto page = this->store().read_messages(address(1, 1), 1, 1);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].seq, 2u);
  EXPECT_TRUE(this->store().read_messages(address(1, 1), 3, 10)->empty());
  EXPECT_TRUE(this->store().read_messages(address(1, 1), 0, 0)->empty());
  EXPECT_TRUE(this->store().read_messages(address(1, 7), 0, 10)->empty());
}

TYPED_TEST(MailboxTest, DeleteIsIdempotentAndSeqsAreNeverReused) {
  ASSERT_TRUE(this->store()
                  .append_messages(this->request(
                      {envelope_to(address(1, 1), "a"), envelope_to(address(1, 1), "b")}))
                  .ok());
  EXPECT_EQ(*this->store().delete_message(address(1, 1), 1), 1u);
  EXPECT_EQ(*this->store().delete_message(address(1, 1), 1), 0u);
  std::vector<std::uint64_t> acks{2, 2, 99};
  EXPECT_EQ(*this->store().delete_messages(address(1, 1), acks), 1u);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 0u);
  // An emptied mailbox continues numbering where it was.
  auto next = this->store().append_messages(this->request({envelope_to(address(1, 1), "c")}));
  EXPECT_EQ(next->copies[0].seq, 3u);
}

TYPED_TEST(MailboxTest, DuplicateDedupeKeyReturnsTheOriginalResultWithoutWriting) {
  if constexpr (kSpreadOverBackends<TypeParam>) {
    GTEST_SKIP() << "a retry to other recipients answers for their backends only";
  }
  auto first = this->store().append_messages(this->request(
      {envelope_to(address(1, 1), "m"), envelope_to(address(2, 1), "m")}, "dev1:msg1"));
  ASSERT_TRUE(first.ok());
  // A retry (even with different content) gets the same ack and writes nothing.
  auto retry = this->store().append_messages(
      this->request({envelope_to(address(1, 2), "other")}, "dev1:msg1"));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->copies, first->copies);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 1u);
  EXPECT_EQ(*this->store().count_messages(address(1, 2)), 0u);
  EXPECT_EQ(this->store().stats().duplicate_appends, 1u);
  // Another key is another message.
  auto other =
      this->store().append_messages(this->request({envelope_to(address(1, 1), "m2")}, "dev1:msg2"));
  EXPECT_FALSE(other->duplicate);
  EXPECT_EQ(other->copies[0].seq, 2u);
}

TYPED_TEST(MailboxTest, UnknownRecipientFailsTheWholeBatch) {
  auto result = this->store().append_messages(
      this->request({envelope_to(address(1, 1), "a"), envelope_to(address(1, 5), "b")}, "key"));
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(result.status().message().find("device 5 of account a0"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 0u);
  // The failed request did not record its dedupe key.
  auto again =
      this->store().append_messages(this->request({envelope_to(address(1, 1), "a")}, "key"));
  EXPECT_FALSE(again->duplicate);
}

TYPED_TEST(MailboxTest, InvalidAppendsAreRefused) {
  EXPECT_EQ(this->store().append_messages(this->request({})).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->store()
                .append_messages(this->request({envelope_to(address(1, 0), "a")}))
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

TYPED_TEST(MailboxTest, QueueCapRefusesTheWholeBatchAndNamesTheDevice) {
  ASSERT_TRUE(this->store()
                  .append_messages(this->request(
                      {envelope_to(address(1, 2), "1"), envelope_to(address(1, 2), "2")}, "", 3))
                  .ok());
  auto full = this->store().append_messages(
      this->request({envelope_to(address(1, 1), "x"), envelope_to(address(1, 2), "3"),
                     envelope_to(address(1, 2), "4")},
                    "k", 3));
  EXPECT_EQ(full.status().code(), ErrorCode::kQueueFull);
  EXPECT_NE(full.status().message().find("device 2 of account"), std::string::npos);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 0u);
  EXPECT_EQ(*this->store().count_messages(address(1, 2)), 2u);
  // Room for exactly one more.
  EXPECT_TRUE(
      this->store().append_messages(this->request({envelope_to(address(1, 2), "3")}, "", 3)).ok());
  // Acks make room again.
  ASSERT_EQ(*this->store().delete_message(address(1, 2), 1), 1u);
  EXPECT_TRUE(
      this->store().append_messages(this->request({envelope_to(address(1, 2), "4")}, "", 3)).ok());
}

TYPED_TEST(MailboxTest, UnknownDeviceIsReportedBeforeAFullMailbox) {
  ASSERT_TRUE(
      this->store().append_messages(this->request({envelope_to(address(1, 1), "1")}, "", 1)).ok());
  auto result = this->store().append_messages(
      this->request({envelope_to(address(1, 1), "2"), envelope_to(address(2, 7), "2")}, "", 1));
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(result.status().message().find("device 7 of account"), std::string::npos);
}

TYPED_TEST(MailboxTest, RetentionPurgesOnlyOldMessages) {
  ASSERT_TRUE(this->store()
                  .append_messages(this->request({envelope_to(address(1, 1), "old", 100),
                                                  envelope_to(address(1, 2), "old", 100),
                                                  envelope_to(address(1, 1), "new", 200)}))
                  .ok());
  EXPECT_EQ(*this->store().purge_messages_older_than(200), 2u);
  EXPECT_EQ(this->payloads(address(1, 1)), (std::vector<std::string>{"new"}));
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 1u);
  EXPECT_EQ(*this->store().count_messages(address(1, 2)), 0u);
  EXPECT_EQ(*this->store().purge_messages_older_than(200), 0u);
}

TYPED_TEST(MailboxTest, RetentionPurgesLargeMailboxesCompletely) {
  // More than one purge chunk per device, old and new interleaved.
  std::vector<NewEnvelope> envelopes;
  for (int i = 0; i < 2500; ++i) {
    envelopes.push_back(envelope_to(address(1, 1 + i % 2), "m", i % 5 == 0 ? 900 : 100));
  }
  ASSERT_TRUE(this->store().append_messages(this->request(std::move(envelopes))).ok());
  EXPECT_EQ(*this->store().purge_messages_older_than(500), 2000u);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 250u);
  EXPECT_EQ(*this->store().count_messages(address(1, 2)), 250u);
  auto kept = this->store().read_messages(address(1, 1), 0, 10'000);
  ASSERT_TRUE(kept.ok());
  for (const StoredEnvelope& m : *kept) EXPECT_EQ(m.timestamp_ms, 900);
}

TYPED_TEST(MailboxTest, DedupeKeysExpire) {
  AppendRequest first = this->request({envelope_to(address(1, 1), "a")}, "k1");
  first.now_ms = 100;
  AppendRequest second = this->request({envelope_to(address(1, 1), "b")}, "k2");
  second.now_ms = 300;
  ASSERT_TRUE(this->store().append_messages(first).ok());
  ASSERT_TRUE(this->store().append_messages(second).ok());
  EXPECT_EQ(*this->store().purge_dedupe_keys_older_than(200), 1u);
  EXPECT_FALSE(this->store().append_messages(first)->duplicate);  // forgotten: a new message
  EXPECT_TRUE(this->store().append_messages(second)->duplicate);
}

TYPED_TEST(MailboxTest, ConcurrentAppendsWithRetriesNeverDuplicate) {
  constexpr int kThreads = 8;
  constexpr int kMessagesPerThread = 40;
  std::mutex mutex;
  std::map<std::string, std::vector<DeliveredCopy>> acked;  // dedupe key → copies
  int errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMessagesPerThread; ++i) {
        // Two threads send each message (as a client retrying over two connections would).
        int message = (t / 2) * kMessagesPerThread + i;
        std::string key = "msg" + std::to_string(message);
        auto result = this->store().append_messages(
            this->request({envelope_to(address(1, 1), key), envelope_to(address(2, 1), key)}, key));
        std::lock_guard lock(mutex);
        if (!result.ok()) {
          ++errors;
          continue;
        }
        auto [it, inserted] = acked.emplace(key, result->copies);
        if (!inserted && it->second != result->copies) ++errors;  // same key → same ack
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors, 0);
  const std::size_t messages = std::size_t{kThreads} / 2 * kMessagesPerThread;
  ASSERT_EQ(acked.size(), messages);
  for (const DeviceAddress& to : {address(1, 1), address(2, 1)}) {
    auto stored = this->store().read_messages(to, 0, 10'000);
    ASSERT_EQ(stored->size(), messages);
    std::set<std::string> bodies;
    for (std::size_t i = 0; i < stored->size(); ++i) {
      EXPECT_EQ((*stored)[i].seq, i + 1);  // unique, dense and in order
      bodies.insert(std::string(as_string_view((*stored)[i].payload)));
    }
    EXPECT_EQ(bodies.size(), messages);  // each message exactly once
  }
}

}  // namespace
}  // namespace parley::store::testing
