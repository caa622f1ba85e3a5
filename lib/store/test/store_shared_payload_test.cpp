// SPDX-License-Identifier: AGPL-3.0-or-later
// Conformance: shared payloads (fan-out by reference) — stored once, resolved on read, freed with
// the last referencing mailbox entry whichever way it goes — on every backend.

#include <atomic>
#include <thread>

#include "store_fixture.h"

namespace parley::store::testing {
namespace {

// Account 1 with 3 devices, accounts 2 and 3 with 2 each.
template <typename Backend>
class SharedPayloadTest : public StoreTest<Backend> {
 protected:
  void SetUp() override {
    StoreTest<Backend>::SetUp();
    this->create_account_with_devices(1, 3);
    this->create_account_with_devices(2, 2);
    this->create_account_with_devices(3, 2);
  }

  // One shared payload for every listed device (their envelopes carry no payload of their own).
  AppendRequest fan_out(const std::vector<DeviceAddress>& to, std::string_view payload,
                        const std::string& dedupe_key = {}, std::int64_t timestamp_ms = 1000) {
    AppendRequest r;
    for (const DeviceAddress& address : to) {
      r.envelopes.push_back(envelope_to(address, "", timestamp_ms));
    }
    r.shared_payload = to_bytes(payload);
    r.dedupe_key = to_bytes(dedupe_key);
    r.now_ms = 5000;
    return r;
  }

  std::vector<DeviceAddress> everyone() {
    return {address(1, 1), address(1, 2), address(1, 3), address(2, 1),
            address(2, 2), address(3, 1), address(3, 2)};
  }

  std::string payload_of(const DeviceAddress& to, std::uint64_t seq) {
    auto messages = this->store().read_messages(to, seq - 1, 1);
    EXPECT_TRUE(messages.ok()) << messages.status().to_string();
    if (!messages.ok() || messages->empty() || messages->front().seq != seq) return "<none>";
    return std::string(as_string_view(messages->front().payload));
  }

  std::uint64_t live() { return this->store().stats().shared_payloads_live; }
};
TYPED_TEST_SUITE(SharedPayloadTest, SingleStoreBackends, BackendNames);

TYPED_TEST(SharedPayloadTest, StoredOnceAndResolvedOnRead) {
  auto result = this->store().append_messages(this->fan_out(this->everyone(), "group message"));
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_FALSE(result->duplicate);
  ASSERT_EQ(result->copies.size(), 7u);
  EXPECT_EQ(this->store().stats().shared_payloads_written, 1u);
  EXPECT_EQ(this->live(), 1u);
  for (const DeliveredCopy& copy : result->copies) {
    auto messages = this->store().read_messages(copy.recipient, 0, 10);
    ASSERT_TRUE(messages.ok());
    ASSERT_EQ(messages->size(), 1u);
    // Indistinguishable from a copy that holds its own payload.
    EXPECT_EQ((*messages)[0], (StoredEnvelope{1, address(99, 1), 1000, to_bytes("group message")}));
  }
}

TYPED_TEST(SharedPayloadTest, EnvelopesWithTheirOwnPayloadKeepIt) {
  AppendRequest r = this->fan_out({address(1, 1), address(2, 1)}, "shared");
  r.envelopes.push_back(envelope_to(address(3, 1), "own"));
  auto result = this->store().append_messages(r);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(this->payload_of(address(1, 1), 1), "shared");
  EXPECT_EQ(this->payload_of(address(2, 1), 1), "shared");
  EXPECT_EQ(this->payload_of(address(3, 1), 1), "own");
  // Only the own-payload copy goes: the shared payload stays for the others.
  EXPECT_EQ(*this->store().delete_message(address(3, 1), 1), 1u);
  EXPECT_EQ(this->live(), 1u);

  // A shared payload nobody refers to is not stored at all.
  AppendRequest unused;
  unused.envelopes = {envelope_to(address(1, 1), "own")};
  unused.shared_payload = to_bytes("unused");
  ASSERT_TRUE(this->store().append_messages(unused).ok());
  EXPECT_EQ(this->store().stats().shared_payloads_written, 1u);
  EXPECT_EQ(this->payload_of(address(1, 1), 2), "own");
}

TYPED_TEST(SharedPayloadTest, MixesWithOrdinaryMessagesInSeqOrder) {
  AppendRequest one;
  one.envelopes = {envelope_to(address(1, 1), "first")};
  ASSERT_TRUE(this->store().append_messages(one).ok());
  ASSERT_TRUE(this->store().append_messages(this->fan_out({address(1, 1)}, "second")).ok());
  one.envelopes = {envelope_to(address(1, 1), "third")};
  ASSERT_TRUE(this->store().append_messages(one).ok());
  auto messages = this->store().read_messages(address(1, 1), 0, 10);
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ(as_string_view((*messages)[0].payload), "first");
  EXPECT_EQ(as_string_view((*messages)[1].payload), "second");
  EXPECT_EQ(as_string_view((*messages)[2].payload), "third");
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 3u);
}

TYPED_TEST(SharedPayloadTest, DeletedWithTheLastAck) {
  auto result = this->store().append_messages(this->fan_out(this->everyone(), "m"));
  ASSERT_TRUE(result.ok());
  for (std::size_t i = 0; i + 1 < result->copies.size(); ++i) {
    const DeliveredCopy& copy = result->copies[i];
    EXPECT_EQ(*this->store().delete_message(copy.recipient, copy.seq), 1u);
    EXPECT_EQ(*this->store().delete_message(copy.recipient, copy.seq), 0u);  // idempotent
    EXPECT_EQ(this->live(), 1u);
  }
  const DeliveredCopy& last = result->copies.back();
  EXPECT_EQ(this->payload_of(last.recipient, last.seq), "m");
  EXPECT_EQ(*this->store().delete_message(last.recipient, last.seq), 1u);
  EXPECT_EQ(this->live(), 0u);
}

TYPED_TEST(SharedPayloadTest, AckListingSeveralEntriesOfOnePayloadCountsEach) {
  // Two entries of one payload in one mailbox (a device listed twice by the caller).
  auto result = this->store().append_messages(
      this->fan_out({address(1, 1), address(1, 1), address(2, 1)}, "twice"));
  ASSERT_TRUE(result.ok());
  std::vector<std::uint64_t> both{1, 2, 2};
  EXPECT_EQ(*this->store().delete_messages(address(1, 1), both), 2u);
  EXPECT_EQ(this->live(), 1u);
  EXPECT_EQ(this->payload_of(address(2, 1), 1), "twice");
  EXPECT_EQ(*this->store().delete_message(address(2, 1), 1), 1u);
  EXPECT_EQ(this->live(), 0u);
}

TYPED_TEST(SharedPayloadTest, RetentionPurgeReleases) {
  ASSERT_TRUE(this->store().append_messages(this->fan_out(this->everyone(), "old", "", 100)).ok());
  ASSERT_TRUE(this->store().append_messages(this->fan_out(this->everyone(), "new", "", 300)).ok());
  EXPECT_EQ(this->live(), 2u);
  EXPECT_EQ(*this->store().purge_messages_older_than(200), 7u);
  EXPECT_EQ(this->live(), 1u);
  EXPECT_EQ(this->payload_of(address(3, 2), 2), "new");
  EXPECT_EQ(*this->store().purge_messages_older_than(400), 7u);
  EXPECT_EQ(this->live(), 0u);
}

TYPED_TEST(SharedPayloadTest, RemoveDeviceAndDeleteAccountRelease) {
  ASSERT_TRUE(this->store()
                  .append_messages(this->fan_out(
                      {address(1, 1), address(1, 2), address(1, 3), address(2, 1)}, "m"))
                  .ok());
  ASSERT_TRUE(this->store().remove_device(address(2, 1)).ok());
  EXPECT_EQ(this->live(), 1u);
  // All of account 1's entries go in one write, which must drop the payload's last three.
  ASSERT_TRUE(this->store().delete_account(account_id(1)).ok());
  EXPECT_EQ(this->live(), 0u);

  ASSERT_TRUE(
      this->store().append_messages(this->fan_out({address(3, 1), address(3, 2)}, "x")).ok());
  ASSERT_TRUE(this->store().remove_device(address(3, 1)).ok());
  EXPECT_EQ(this->live(), 1u);
  EXPECT_EQ(this->payload_of(address(3, 2), 1), "x");
  ASSERT_TRUE(this->store().remove_device(address(3, 2)).ok());
  EXPECT_EQ(this->live(), 0u);
}

TYPED_TEST(SharedPayloadTest, DuplicateWritesNoSecondPayload) {
  auto first = this->store().append_messages(this->fan_out(this->everyone(), "m", "dev:msg"));
  auto retry = this->store().append_messages(this->fan_out(this->everyone(), "m", "dev:msg"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->copies, first->copies);
  EXPECT_EQ(this->store().stats().shared_payloads_written, 1u);
  EXPECT_EQ(this->live(), 1u);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 1u);
}

TYPED_TEST(SharedPayloadTest, FailedAppendStoresNothing) {
  AppendRequest r = this->fan_out({address(1, 1), address(2, 9)}, "m");
  EXPECT_EQ(this->store().append_messages(r).status().code(), ErrorCode::kNotFound);
  r = this->fan_out({address(1, 1)}, "m");
  ASSERT_TRUE(this->store().append_messages(r).ok());
  r.max_queue_per_device = 1;
  EXPECT_EQ(this->store().append_messages(r).status().code(), ErrorCode::kQueueFull);
  EXPECT_EQ(this->store().stats().shared_payloads_written, 1u);
  EXPECT_EQ(this->live(), 1u);
  r.shared_payload = Bytes{};
  EXPECT_EQ(this->store().append_messages(r).status().code(), ErrorCode::kInvalidArgument);
}

TYPED_TEST(SharedPayloadTest, ConcurrentAcksOfOnePayloadFreeItExactlyOnce) {
  // 40 payloads to 7 devices; every device acks from its own thread, one seq at a time, so the
  // reference count of each payload is updated by 7 threads at once.
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(this->store()
                    .append_messages(this->fan_out(this->everyone(), "m" + std::to_string(i)))
                    .ok());
  }
  EXPECT_EQ(this->live(), std::uint64_t{kMessages});
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (const DeviceAddress& device : this->everyone()) {
    threads.emplace_back([&, device] {
      for (std::uint64_t seq = 1; seq <= kMessages; ++seq) {
        auto deleted = this->store().delete_message(device, seq);
        if (!deleted.ok() || *deleted != 1) ++errors;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(this->live(), 0u);
}

TYPED_TEST(SharedPayloadTest, SurvivesReopen) {
  if constexpr (!TypeParam::kPersistent) GTEST_SKIP() << "not persistent";
  ASSERT_TRUE(this->store().append_messages(this->fan_out(this->everyone(), "before")).ok());
  ASSERT_TRUE(this->store().delete_message(address(1, 1), 1).ok());
  this->reopen();
  EXPECT_EQ(this->live(), 1u);
  EXPECT_EQ(this->payload_of(address(2, 2), 1), "before");
  // New payloads get new ids: both stay readable.
  ASSERT_TRUE(this->store().append_messages(this->fan_out(this->everyone(), "after")).ok());
  EXPECT_EQ(this->live(), 2u);
  EXPECT_EQ(this->payload_of(address(2, 2), 1), "before");
  EXPECT_EQ(this->payload_of(address(2, 2), 2), "after");
  for (const DeviceAddress& device : this->everyone()) {
    std::vector<std::uint64_t> all{1, 2};
    ASSERT_TRUE(this->store().delete_messages(device, all).ok());
  }
  EXPECT_EQ(this->live(), 0u);
  this->reopen();
  EXPECT_EQ(this->live(), 0u);
}

}  // namespace
}  // namespace parley::store::testing
