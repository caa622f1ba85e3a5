// SPDX-License-Identifier: AGPL-3.0-or-later
// ShardedStore over two real PostgreSQL servers: the shard map, accounts spread over both, and
// what a message whose copies live on both backends does. (The conformance suites also run
// through it: ShardedPgBackend in store_fixture.h.)

#include "parley/store/sharded_store.h"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <utility>

#include "parley/store/memory_store.h"
#include "store_fixture.h"

namespace parley::store::testing {
namespace {

TEST(ShardMapTest, TheHashIsFrozen) {
  // Changing shard_of() would move every existing account: these values must never change.
  EXPECT_EQ(ShardMap::shard_of(AccountId{}), 101u);
  EXPECT_EQ(ShardMap::shard_of(account_id(1)), 786u);
  EXPECT_EQ(ShardMap::shard_of(account_id(2)), 351u);
}

TEST(ShardMapTest, EvenlySplitsConsecutiveRanges) {
  ShardMap map = ShardMap::evenly(2);
  EXPECT_EQ(map.backend_count(), 2u);
  EXPECT_EQ(map.backend_of(account_id(1)), 1u);  // shard 786
  EXPECT_EQ(map.backend_of(account_id(2)), 0u);  // shard 351
}

TEST(ShardMapTest, RangesMustCoverEveryShardOnce) {
  EXPECT_TRUE(ShardMap::from_ranges({{0, 99, 1}, {100, kLogicalShards - 1, 0}}, 2).ok());
  EXPECT_EQ(ShardMap::from_ranges({{0, 500, 0}}, 1).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ShardMap::from_ranges({{0, 600, 0}, {500, kLogicalShards - 1, 1}}, 2).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(ShardMap::from_ranges({{0, kLogicalShards - 1, 2}}, 2).status().code(),
            ErrorCode::kInvalidArgument);
  auto moved = ShardMap::from_ranges({{0, 785, 0}, {786, 786, 1}, {787, 1023, 0}}, 2);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->backend_of(account_id(1)), 1u);
  EXPECT_EQ(moved->backend_of(account_id(3)), 0u);  // shard 940
}

// A MemoryStore whose next append fails as if its server were down after the other backend
// committed: to see a cross-backend message completed by a retry.
class FlakyStore final : public Store {
 public:
  bool fail_next_append = false;

  Status create_account(const Account& a) override { return inner_.create_account(a); }
  Result<Account> get_account(const AccountId& id) const override { return inner_.get_account(id); }
  Result<Account> find_account_by_username(std::string_view u) const override {
    return inner_.find_account_by_username(u);
  }
  Result<Account> find_account_by_identity_key(ByteView k) const override {
    return inner_.find_account_by_identity_key(k);
  }
  Status set_username(const AccountId& id, std::optional<std::string_view> u) override {
    return inner_.set_username(id, u);
  }
  Status set_signed_device_list(const AccountId& id, ByteView l) override {
    return inner_.set_signed_device_list(id, l);
  }
  Status delete_account(const AccountId& id) override { return inner_.delete_account(id); }
  Status add_device(const Device& d, std::uint32_t max) override {
    return inner_.add_device(d, max);
  }
  Result<Device> get_device(const DeviceAddress& a) const override { return inner_.get_device(a); }
  Result<std::vector<Device>> list_devices(const AccountId& id) const override {
    return inner_.list_devices(id);
  }
  Status touch_device(const DeviceAddress& a, std::int64_t t) override {
    return inner_.touch_device(a, t);
  }
  Status remove_device(const DeviceAddress& a) override { return inner_.remove_device(a); }
  Status set_signed_prekey(const DeviceAddress& a, const SignedPrekey& p) override {
    return inner_.set_signed_prekey(a, p);
  }
  Result<SignedPrekey> get_signed_prekey(const DeviceAddress& a) const override {
    return inner_.get_signed_prekey(a);
  }
  Status add_one_time_prekeys(const DeviceAddress& a, std::span<const OneTimePrekey> p,
                              std::uint32_t max) override {
    return inner_.add_one_time_prekeys(a, p, max);
  }
  Result<std::optional<OneTimePrekey>> claim_one_time_prekey(const DeviceAddress& a) override {
    return inner_.claim_one_time_prekey(a);
  }
  Result<std::uint64_t> count_one_time_prekeys(const DeviceAddress& a) const override {
    return inner_.count_one_time_prekeys(a);
  }
  Result<AppendResult> append_messages(const AppendRequest& r) override {
    if (std::exchange(fail_next_append, false)) {
      return Status::error(ErrorCode::kUnavailable, "the database server is unreachable");
    }
    return inner_.append_messages(r);
  }
  Result<std::vector<StoredEnvelope>> read_messages(const DeviceAddress& a, std::uint64_t after,
                                                    std::uint32_t max) const override {
    return inner_.read_messages(a, after, max);
  }
  Result<std::uint64_t> delete_messages(const DeviceAddress& a,
                                        std::span<const std::uint64_t> s) override {
    return inner_.delete_messages(a, s);
  }
  Result<std::uint64_t> count_messages(const DeviceAddress& a) const override {
    return inner_.count_messages(a);
  }
  Result<std::uint64_t> purge_messages_older_than(std::int64_t c) override {
    return inner_.purge_messages_older_than(c);
  }
  Result<std::uint64_t> purge_dedupe_keys_older_than(std::int64_t c) override {
    return inner_.purge_dedupe_keys_older_than(c);
  }
  StoreStats stats() const override { return inner_.stats(); }

 private:
  MemoryStore inner_;
};

TEST(ShardedStoreTest, ARetryWithTheDedupeKeyCompletesAMessageAPartialFailureLeft) {
  // Account 2 lives on backend 0 (written first), account 1 on backend 1 (the flaky one).
  auto flaky_owned = std::make_unique<FlakyStore>();
  FlakyStore& flaky = *flaky_owned;
  std::vector<std::unique_ptr<Store>> backends;
  backends.push_back(std::make_unique<MemoryStore>());
  backends.push_back(std::move(flaky_owned));
  ShardedStore store(std::move(backends), ShardMap::evenly(2));
  for (std::uint8_t n : {1, 2}) {
    ASSERT_TRUE(store.create_account(make_account(n)).ok());
    ASSERT_TRUE(store.add_device(make_device(n, 1), 5).ok());
  }
  AppendRequest request;
  request.envelopes = {envelope_to(address(1, 1), "m"), envelope_to(address(2, 1), "m")};
  request.dedupe_key = to_bytes("dev:1");
  flaky.fail_next_append = true;
  EXPECT_EQ(store.append_messages(request).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(*store.count_messages(address(2, 1)), 1u);  // backend 0 committed its part
  EXPECT_EQ(*store.count_messages(address(1, 1)), 0u);

  auto retry = store.append_messages(request);
  ASSERT_TRUE(retry.ok()) << retry.status().to_string();
  EXPECT_FALSE(retry->duplicate);  // part of it was new
  EXPECT_EQ(retry->copies, (std::vector<DeliveredCopy>{{address(1, 1), 1}, {address(2, 1), 1}}));
  EXPECT_EQ(*store.count_messages(address(1, 1)), 1u);
  EXPECT_EQ(*store.count_messages(address(2, 1)), 1u);  // not twice
  auto again = store.append_messages(request);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->copies, retry->copies);
}

class ShardedPgTest : public StoreTest<ShardedPgBackend> {
 protected:
  std::uint64_t accounts_on(int server) {
    pqxx::connection connection(backend_.conninfo[server]);
    pqxx::nontransaction work(connection);
    return work.exec("SELECT count(*) FROM accounts")[0][0].as<std::uint64_t>();
  }
};

TEST_F(ShardedPgTest, AccountsLandOnBothServersAndAreFoundEverywhere) {
  for (std::uint8_t n = 1; n <= 32; ++n) {
    ASSERT_TRUE(store().create_account(make_account(n, "user" + std::to_string(n))).ok());
  }
  const std::uint64_t first = accounts_on(0);
  const std::uint64_t second = accounts_on(1);
  EXPECT_GT(first, 0u);
  EXPECT_GT(second, 0u);
  EXPECT_EQ(first + second, 32u);
  for (std::uint8_t n = 1; n <= 32; ++n) {
    EXPECT_EQ(store().get_account(account_id(n))->id, account_id(n));
    EXPECT_EQ(store().find_account_by_username("user" + std::to_string(n))->id, account_id(n));
    EXPECT_EQ(store().find_account_by_identity_key(make_account(n).identity_key)->id,
              account_id(n));
  }
}

TEST_F(ShardedPgTest, UsernamesAndIdentityKeysAreUniqueAcrossServers) {
  // Accounts 1 and 2 live on different servers (ShardMapTest.EvenlySplitsConsecutiveRanges).
  ASSERT_TRUE(store().create_account(make_account(1, "alice")).ok());
  EXPECT_EQ(store().create_account(make_account(2, "alice")).code(), ErrorCode::kAlreadyExists);
  Account same_key = make_account(2);
  same_key.identity_key = make_account(1).identity_key;
  EXPECT_EQ(store().create_account(same_key).code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(store().create_account(make_account(2, "bob")).ok());
  EXPECT_EQ(store().set_username(account_id(2), "alice").code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(store().set_username(account_id(1), std::nullopt).ok());
  EXPECT_TRUE(store().set_username(account_id(2), "alice").ok());
}

TEST_F(ShardedPgTest, AMessageToBothServersIsStoredOncePerServerAndDeduplicated) {
  create_account_with_devices(1, 2);
  create_account_with_devices(2, 2);
  AppendRequest request;
  for (const DeviceAddress& to : {address(1, 1), address(2, 1), address(1, 2), address(2, 2)}) {
    request.envelopes.push_back(envelope_to(to, "", 1000));
  }
  request.shared_payload = to_bytes("group message");
  request.dedupe_key = to_bytes("dev:1");
  request.now_ms = 5000;
  auto first = store().append_messages(request);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->copies,
            (std::vector<DeliveredCopy>{
                {address(1, 1), 1}, {address(2, 1), 1}, {address(1, 2), 1}, {address(2, 2), 1}}));
  EXPECT_EQ(store().stats().shared_payloads_live, 2u);  // one copy on each server

  auto retry = store().append_messages(request);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->copies, first->copies);

  for (const DeliveredCopy& copy : first->copies) {
    auto messages = store().read_messages(copy.recipient, 0, 10);
    ASSERT_EQ(messages->size(), 1u);
    EXPECT_EQ(as_string_view((*messages)[0].payload), "group message");
    EXPECT_EQ(*store().delete_message(copy.recipient, copy.seq), 1u);
  }
  EXPECT_EQ(store().stats().shared_payloads_live, 0u);
}

TEST_F(ShardedPgTest, FailuresAcrossServersWriteNothing) {
  create_account_with_devices(1, 1);
  create_account_with_devices(2, 1);
  AppendRequest request;
  request.envelopes = {envelope_to(address(1, 1), "a"), envelope_to(address(2, 7), "b")};
  auto unknown = store().append_messages(request);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("device 7 of account"), std::string::npos);
  request.envelopes = {envelope_to(address(1, 1), "a"), envelope_to(address(2, 1), "b"),
                       envelope_to(address(2, 1), "c")};
  request.max_queue_per_device = 1;
  EXPECT_EQ(store().append_messages(request).status().code(), ErrorCode::kQueueFull);
  EXPECT_EQ(*store().count_messages(address(1, 1)), 0u);
  EXPECT_EQ(*store().count_messages(address(2, 1)), 0u);
}

}  // namespace
}  // namespace parley::store::testing
