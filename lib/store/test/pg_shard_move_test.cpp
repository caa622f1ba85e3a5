// SPDX-License-Identifier: AGPL-3.0-or-later
// move_shards() between two real PostgreSQL servers: half of the shards move from server 0 to
// server 1 under a ShardedStore's feet, and the store opened with the new map must show exactly
// what it showed before; a run stopped between copy and delete is finished by a second run; the
// accounts it must refuse stay where they are.

#include "parley/store/pg_shard_move.h"

#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <set>

#include "store_fixture.h"

namespace parley::store::testing {
namespace {

constexpr std::uint8_t kAccounts = 24;
constexpr DeviceId kDevices = 2;
// Shards 0..511 move from backend 0 to backend 1.
constexpr std::uint32_t kFirstKept = kLogicalShards / 2;

bool moves(std::uint8_t n) {
  return ShardMap::shard_of(account_id(n)) < kFirstKept;
}

std::uint64_t moving_accounts() {
  std::uint64_t count = 0;
  for (std::uint8_t n = 1; n <= kAccounts; ++n) count += moves(n);
  return count;
}

std::vector<std::uint32_t> first_half() {
  std::vector<std::uint32_t> shards;
  for (std::uint32_t shard = 0; shard < kFirstKept; ++shard) shards.push_back(shard);
  return shards;
}

ShardMap map_of(const std::vector<ShardRange>& ranges) {
  auto map = ShardMap::from_ranges(ranges, 2);
  EXPECT_TRUE(map.ok());
  return *map;
}
ShardMap before_move() {
  return map_of({{0, kLogicalShards - 1, 0}});
}
ShardMap after_move() {
  return map_of({{0, kFirstKept - 1, 1}, {kFirstKept, kLogicalShards - 1, 0}});
}

// Everything a Store shows of one account (one-time prekeys by count: reading them claims them).
struct Snapshot {
  Account account;
  std::vector<Device> devices;
  std::vector<SignedPrekey> signed_prekeys;
  std::vector<std::uint64_t> one_time_prekeys;
  std::vector<std::vector<StoredEnvelope>> mailboxes;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const Store& store, std::uint8_t n) {
  Snapshot shot;
  shot.account = store.get_account(account_id(n)).value();
  shot.devices = store.list_devices(account_id(n)).value();
  for (const Device& device : shot.devices) {
    shot.signed_prekeys.push_back(store.get_signed_prekey(device.address()).value());
    shot.one_time_prekeys.push_back(store.count_one_time_prekeys(device.address()).value());
    shot.mailboxes.push_back(store.read_messages(device.address(), 0, 1000).value());
  }
  return shot;
}

std::string username(std::uint8_t n) {
  return "user" + std::to_string(n);
}

class ShardMoveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(conninfo_[0].empty()) << shared_postgres(0).failure();
    ASSERT_FALSE(conninfo_[1].empty()) << shared_postgres(1).failure();
    // The tests need accounts on both sides of the split (fixed ids, so this holds or never).
    ASSERT_GT(moving_accounts(), 3u);
    ASSERT_LT(moving_accounts(), kAccounts);
  }

  std::unique_ptr<Store> open(const ShardMap& map) {
    std::vector<std::unique_ptr<Store>> backends;
    for (const std::string& info : conninfo_) {
      auto store = PgStore::open({.conninfo = info});
      EXPECT_TRUE(store.ok()) << store.status().to_string();
      if (!store.ok()) return nullptr;
      backends.push_back(std::move(store).value());
    }
    return std::make_unique<ShardedStore>(std::move(backends), map);
  }

  // kAccounts accounts with usernames, two devices each with keys, and in every mailbox: a
  // direct message, a group message whose payload all of them share, and a sealed-sender one.
  static void populate(Store& store) {
    for (std::uint8_t n = 1; n <= kAccounts; ++n) {
      ASSERT_TRUE(store.create_account(make_account(n, username(n))).ok());
      for (DeviceId d = 1; d <= kDevices; ++d) {
        ASSERT_TRUE(store.add_device(make_device(n, d), 10).ok());
        const SignedPrekey signed_prekey{n * 10u + d, Bytes(33, n), Bytes(64, 0x50 + d)};
        ASSERT_TRUE(store.set_signed_prekey(address(n, d), signed_prekey).ok());
        std::vector<OneTimePrekey> keys;
        for (std::uint32_t k = 1; k <= 3; ++k) {
          keys.push_back({k, Bytes(33, static_cast<std::uint8_t>(n + k))});
        }
        ASSERT_TRUE(store.add_one_time_prekeys(address(n, d), keys, 100).ok());
      }
    }
    ASSERT_TRUE(store.claim_one_time_prekey(address(1, 1)).ok());  // counts differ per device
    for (std::uint8_t n = 1; n <= kAccounts; ++n) {
      const std::uint8_t to = n % kAccounts + 1;
      AppendRequest direct;
      direct.envelopes = {envelope_to(address(to, 1), "direct from " + username(n), 1000 + n),
                          envelope_to(address(to, 2), "direct from " + username(n), 1000 + n)};
      direct.dedupe_key = to_bytes("dm:" + username(n));
      direct.now_ms = 1000 + n;
      ASSERT_TRUE(store.append_messages(direct).ok());
    }
    AppendRequest group;
    for (std::uint8_t n = 1; n <= kAccounts; ++n) {
      for (DeviceId d = 1; d <= kDevices; ++d) {
        group.envelopes.push_back(NewEnvelope{address(n, d), address(1, 1), 2000, {}});
      }
    }
    group.shared_payload = to_bytes("one group payload for everyone");
    ASSERT_TRUE(store.append_messages(group).ok());
    for (std::uint8_t n = 1; n <= kAccounts; ++n) {
      AppendRequest sealed;
      sealed.envelopes = {
          NewEnvelope{address(n, 1), std::nullopt, 3000, to_bytes("sealed " + username(n))}};
      ASSERT_TRUE(store.append_messages(sealed).ok());
    }
  }

  ShardMoveOptions options() const {
    ShardMoveOptions options;
    options.source_conninfo = conninfo_[0];
    options.target_conninfo = conninfo_[1];
    options.shards = first_half();
    return options;
  }

  std::int64_t scalar(int server, const std::string& sql) const {
    pqxx::connection connection(conninfo_[server]);
    pqxx::nontransaction work(connection);
    return work.exec1(sql)[0].as<std::int64_t>();
  }

  std::set<AccountId> accounts_on(int server) const {
    pqxx::connection connection(conninfo_[server]);
    pqxx::nontransaction work(connection);
    std::set<AccountId> ids;
    for (const pqxx::row& row : work.exec("SELECT id FROM accounts")) {
      pqxx::binarystring id(row[0]);
      AccountId account{};
      std::copy(id.begin(), id.end(), account.begin());
      ids.insert(account);
    }
    return ids;
  }

  // Every shared payload on `server` is referenced by exactly `refs` entries (and none by zero).
  void expect_exact_refs(int server) const {
    EXPECT_EQ(scalar(server,
                     "SELECT count(*) FROM shared_payloads p WHERE p.refs = 0 OR p.refs <>"
                     " (SELECT count(*) FROM messages m WHERE m.shared_id = p.id)"),
              0)
        << "server " << server;
  }

  // The accounts that moved are on server 1 only, the others on server 0 only.
  void expect_accounts_where_the_new_map_says() const {
    std::set<AccountId> moved, kept;
    for (std::uint8_t n = 1; n <= kAccounts; ++n) (moves(n) ? moved : kept).insert(account_id(n));
    EXPECT_EQ(accounts_on(1), moved);
    EXPECT_EQ(accounts_on(0), kept);
  }

  std::string conninfo_[2] = {fresh_database_conninfo(0), fresh_database_conninfo(1)};
};

TEST_F(ShardMoveTest, MovedAccountsAreIntactAndOnlyOnTheTarget) {
  std::vector<Snapshot> before(kAccounts + 1);
  {
    auto store = open(before_move());
    ASSERT_NE(store, nullptr);
    populate(*store);
    for (std::uint8_t n = 1; n <= kAccounts; ++n) before[n] = snapshot(*store, n);
  }  // closed: the move refuses while a node is connected

  std::vector<ShardMoveProgress> progress;
  ShardMoveOptions move = options();
  move.accounts_per_transaction = 5;  // several batches share the group payload's one copy
  move.on_progress = [&](const ShardMoveProgress& p) { progress.push_back(p); };
  auto report = move_shards(move);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  const std::uint64_t moving = moving_accounts();
  EXPECT_TRUE(report->complete());
  EXPECT_EQ(report->accounts_total, moving);
  EXPECT_EQ(report->accounts_copied, moving);
  EXPECT_EQ(report->accounts_finished, 0u);
  EXPECT_EQ(report->devices_copied, moving * kDevices);
  EXPECT_EQ(report->messages_copied, moving * 5);  // 2 direct, 2 group, 1 sealed
  EXPECT_EQ(report->shared_payloads_copied, 1u);   // the group payload once, not once per account
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().done, 0u);
  EXPECT_EQ(progress.back().done, moving);
  EXPECT_EQ(progress.back().total, moving);

  expect_accounts_where_the_new_map_says();
  expect_exact_refs(0);
  expect_exact_refs(1);
  EXPECT_EQ(scalar(0, "SELECT count(*) FROM shared_payloads"), 1);
  EXPECT_EQ(scalar(1, "SELECT count(*) FROM shared_payloads"), 1);
  EXPECT_EQ(scalar(1, "SELECT sum(refs) FROM shared_payloads"),
            static_cast<std::int64_t>(moving * kDevices));

  auto store = open(after_move());
  ASSERT_NE(store, nullptr);
  for (std::uint8_t n = 1; n <= kAccounts; ++n) {
    EXPECT_EQ(snapshot(*store, n), before[n]) << "account " << int(n);
    EXPECT_EQ(store->find_account_by_username(username(n))->id, account_id(n));
    EXPECT_EQ(store->find_account_by_identity_key(make_account(n).identity_key)->id, account_id(n));
  }
  // The usernames stay unique across the servers after the move.
  std::uint8_t first_moved = 1;
  while (!moves(first_moved)) ++first_moved;
  EXPECT_EQ(store->create_account(make_account(200, username(first_moved))).code(),
            ErrorCode::kAlreadyExists);
  // Sequence counters moved with the devices: the next message follows the copied ones.
  AppendRequest next;
  next.envelopes = {envelope_to(address(first_moved, 1), "after the move")};
  auto appended = store->append_messages(next);
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended->copies[0].seq, before[first_moved].mailboxes[0].back().seq + 1);
  // A one-time prekey claimed on the target is one the device uploaded.
  auto claimed = store->claim_one_time_prekey(address(first_moved, 2));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ(**claimed, (OneTimePrekey{1, Bytes(33, static_cast<std::uint8_t>(first_moved + 1))}));

  // Acking every copy releases the group payload on both servers.
  for (std::uint8_t n = 1; n <= kAccounts; ++n) {
    for (DeviceId d = 1; d <= kDevices; ++d) {
      const std::vector<StoredEnvelope> mailbox =
          store->read_messages(address(n, d), 0, 1000).value();
      std::vector<std::uint64_t> seqs;
      for (const StoredEnvelope& envelope : mailbox) seqs.push_back(envelope.seq);
      EXPECT_EQ(store->delete_messages(address(n, d), seqs).value(), seqs.size());
    }
  }
  EXPECT_EQ(store->stats().shared_payloads_live, 0u);
  EXPECT_EQ(scalar(0, "SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(scalar(1, "SELECT count(*) FROM messages"), 0);
}

TEST_F(ShardMoveTest, ARunStoppedBetweenCopyAndDeleteIsFinishedByTheNextRun) {
  std::vector<Snapshot> before(kAccounts + 1);
  {
    auto store = open(before_move());
    ASSERT_NE(store, nullptr);
    populate(*store);
    for (std::uint8_t n = 1; n <= kAccounts; ++n) before[n] = snapshot(*store, n);
  }

  // Batches of 4: the first is copied and deleted; the second is copied and committed on the
  // target, then the run "crashes" before deleting it from the source.
  const std::uint64_t moving = moving_accounts();
  ASSERT_GT(moving, 8u);
  ShardMoveOptions crashing = options();
  crashing.accounts_per_transaction = 4;
  int copies = 0;
  crashing.after_copy = [&](const AccountId&) {
    return ++copies == 6 ? Status::error(ErrorCode::kCancelled, "simulated crash") : Status();
  };
  auto crashed = move_shards(crashing);
  EXPECT_EQ(crashed.status().code(), ErrorCode::kCancelled);
  std::set<AccountId> on_source = accounts_on(0);
  std::set<AccountId> on_target = accounts_on(1);
  EXPECT_EQ(on_target.size(), 8u);
  EXPECT_EQ(on_source.size() + on_target.size(), kAccounts + 4u);  // four accounts are on both

  auto finished = move_shards(options());
  ASSERT_TRUE(finished.ok()) << finished.status().to_string();
  EXPECT_TRUE(finished->complete());
  EXPECT_EQ(finished->accounts_total, moving - 4);
  EXPECT_EQ(finished->accounts_finished, 4u);  // found complete on the target: only deleted
  EXPECT_EQ(finished->accounts_copied, moving - 8);

  expect_accounts_where_the_new_map_says();
  expect_exact_refs(0);
  expect_exact_refs(1);
  // No entry twice: each server holds exactly its accounts' five per account.
  EXPECT_EQ(scalar(1, "SELECT count(*) FROM messages"), static_cast<std::int64_t>(moving * 5));
  EXPECT_EQ(scalar(0, "SELECT count(*) FROM messages"),
            static_cast<std::int64_t>((kAccounts - moving) * 5));
  EXPECT_EQ(scalar(1, "SELECT sum(refs) FROM shared_payloads"),
            static_cast<std::int64_t>(moving * kDevices));
  {
    auto store = open(after_move());
    ASSERT_NE(store, nullptr);
    for (std::uint8_t n = 1; n <= kAccounts; ++n) {
      EXPECT_EQ(snapshot(*store, n), before[n]) << "account " << int(n);
    }
  }

  // A third run finds nothing left to move.
  auto again = move_shards(options());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->accounts_total, 0u);
  EXPECT_TRUE(again->complete());
}

TEST_F(ShardMoveTest, AccountsThatWouldCollideOnTheTargetAreRefusedAndStay) {
  {
    auto store = open(before_move());
    ASSERT_NE(store, nullptr);
    populate(*store);
  }
  std::vector<std::uint8_t> moving;
  for (std::uint8_t n = 1; n <= kAccounts; ++n) {
    if (moves(n)) moving.push_back(n);
  }
  {
    auto target = PgStore::open({.conninfo = conninfo_[1]});
    ASSERT_TRUE(target.ok());
    // Another account with the first moving account's username, one with the second's identity
    // key, and the third itself with other contents (written by something between two runs).
    ASSERT_TRUE((*target)->create_account(make_account(200, username(moving[0]))).ok());
    Account same_key = make_account(201);
    same_key.identity_key = make_account(moving[1]).identity_key;
    ASSERT_TRUE((*target)->create_account(same_key).ok());
    Account changed = make_account(moving[2], username(moving[2]));
    changed.signed_device_list = {0xee};
    ASSERT_TRUE((*target)->create_account(changed).ok());
  }

  auto report = move_shards(options());
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_FALSE(report->complete());
  ASSERT_EQ(report->refused.size(), 3u);
  std::set<AccountId> refused;
  for (const RefusedAccount& account : report->refused) refused.insert(account.id);
  EXPECT_EQ(refused, (std::set<AccountId>{account_id(moving[0]), account_id(moving[1]),
                                          account_id(moving[2])}));
  for (const RefusedAccount& account : report->refused) {
    const char* why = account.id == account_id(moving[0])   ? "username"
                      : account.id == account_id(moving[1]) ? "identity key"
                                                            : "different";
    EXPECT_NE(account.reason.find(why), std::string::npos) << account.reason;
  }
  EXPECT_EQ(report->accounts_copied, moving.size() - 3);
  // The refused ones are untouched on the source, with their mailboxes.
  const std::set<AccountId> on_source = accounts_on(0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(on_source.contains(account_id(moving[i])));
  auto source = PgStore::open({.conninfo = conninfo_[0]});
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->count_messages(address(moving[0], 1)).value(), 3u);
  EXPECT_EQ((*source)->count_messages(address(moving[0], 2)).value(), 2u);
  expect_exact_refs(0);
  expect_exact_refs(1);
}

TEST_F(ShardMoveTest, RefusesWhileANodeIsConnectedOrTheTargetIsTheSource) {
  auto node = PgStore::open({.conninfo = conninfo_[0]});  // keeps a pooled connection open
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE((*node)->create_account(make_account(1)).ok());
  auto busy = move_shards(options());
  EXPECT_EQ(busy.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(busy.status().message().find("stop every parleyd node"), std::string::npos);
  node->reset();

  ShardMoveOptions same = options();
  same.target_conninfo = same.source_conninfo;
  auto itself = move_shards(same);
  EXPECT_EQ(itself.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(itself.status().message().find("is the source"), std::string::npos);

  ShardMoveOptions none = options();
  none.shards.clear();
  EXPECT_EQ(move_shards(none).status().code(), ErrorCode::kInvalidArgument);
  none.shards = {kLogicalShards};
  EXPECT_EQ(move_shards(none).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(accounts_on(0).size(), 1u);  // nothing was touched
}

}  // namespace
}  // namespace parley::store::testing
