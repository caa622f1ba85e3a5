// SPDX-License-Identifier: AGPL-3.0-or-later
// move_shards() (pg_shard_move.h): copies accounts' rows with its own SQL, because it must keep
// what the Store interface does not expose (sequence numbers and counters, shared payload
// references), and deletes the source's copies the way PgStore::delete_account does, with the
// store's own statement that releases shared payloads. Accounts go in batches (one transaction
// per batch on each side) so that a move is not one WAL flush per account and side.

#include "parley/store/pg_shard_move.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "parley/store/pg_store.h"
#include "parley/store/sharded_store.h"
#include "pg_impl.h"

namespace parley::store {
namespace {

using pg::bin;
using pg::Session;
using pg::Statement;

// Names this tool's own connections, so that the check for other sessions skips them.
constexpr const char* kApplicationName = "parley-move-shards";
// pg_try_advisory_lock's key for "a move runs on this database" ("parleymv").
constexpr std::int64_t kMoveLockKey = 0x7061726c65796d76;
constexpr std::int64_t kIdPage = 1000;    // account ids per read while listing the source
constexpr std::int64_t kEntryPage = 128;  // mailbox entries per read (each at most 64 KiB)
// A batch's transaction stops taking accounts once it copied this many mailbox entries.
constexpr std::uint64_t kMaxEntriesPerTransaction = 20000;
constexpr int kInUseChecks = 30;
constexpr auto kInUseCheckInterval = std::chrono::milliseconds(100);

const Statement kTryLock{"move_try_lock", "SELECT pg_try_advisory_lock($1)"};
const Statement kOtherSessions{
    "move_other_sessions",
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    " AND application_name IS DISTINCT FROM $1"};
// $1 NULL: from the first.
const Statement kAccountIds{
    "move_account_ids",
    "SELECT id FROM accounts WHERE id > coalesce($1, ''::bytea) ORDER BY id LIMIT $2"};
const Statement kAccount{"move_account",
                         "SELECT identity_key, username, created_ms, signed_device_list"
                         " FROM accounts WHERE id = $1"};
const Statement kDevices{"move_devices",
                         "SELECT device_id, public_key, registration_id, created_ms, last_seen_ms,"
                         " next_seq FROM devices WHERE account_id = $1 ORDER BY device_id"};
const Statement kSignedPrekeys{"move_signed_prekeys",
                               "SELECT device_id, key_id, public_key, signature FROM signed_prekeys"
                               " WHERE account_id = $1 ORDER BY device_id"};
const Statement kOneTimePrekeys{"move_one_time_prekeys",
                                "SELECT device_id, key_id, public_key FROM one_time_prekeys"
                                " WHERE account_id = $1 ORDER BY device_id, key_id"};
// One page of an account's mailbox entries after (device, seq), in (device, seq) order.
const Statement kEntries{
    "move_entries",
    "SELECT m.device_id, m.seq, m.sender_account, m.sender_device, m.timestamp_ms, m.payload,"
    " m.shared_id, p.payload FROM messages m LEFT JOIN shared_payloads p ON p.id = m.shared_id"
    " WHERE m.account_id = $1 AND (m.account_id, m.device_id, m.seq) > ($1, $2, $3)"
    " ORDER BY m.device_id, m.seq LIMIT $4"};
const Statement kHolderOfIdentityKey{"move_holder_of_identity_key",
                                     "SELECT 1 FROM accounts WHERE identity_key = $1 AND id <> $2"};
const Statement kHolderOfUsername{"move_holder_of_username",
                                  "SELECT 1 FROM accounts WHERE username = $1 AND id <> $2"};
const Statement kInsertAccount{
    "move_insert_account",
    "INSERT INTO accounts (id, identity_key, username, created_ms, signed_device_list)"
    " VALUES ($1, $2, $3, $4, $5)"};
const Statement kInsertDevice{
    "move_insert_device",
    "INSERT INTO devices (account_id, device_id, public_key, registration_id, created_ms,"
    " last_seen_ms, next_seq) VALUES ($1, $2, $3, $4, $5, $6, $7)"};
const Statement kInsertSignedPrekey{
    "move_insert_signed_prekey",
    "INSERT INTO signed_prekeys (account_id, device_id, key_id, public_key, signature)"
    " VALUES ($1, $2, $3, $4, $5)"};
const Statement kInsertOneTimePrekeys{
    "move_insert_one_time_prekeys",
    "INSERT INTO one_time_prekeys (account_id, device_id, key_id, public_key)"
    " SELECT $1::bytea, k.dev, k.id, decode(k.key, 'hex')"
    " FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS k(dev, id, key)"};
const Statement kLockPayload{"move_lock_payload",
                             "SELECT 1 FROM shared_payloads WHERE id = $1 FOR UPDATE"};
// Counted up once the account's entries are in (refs >= 0 holds meanwhile).
const Statement kInsertPayload{
    "move_insert_payload",
    "INSERT INTO shared_payloads (payload, refs) VALUES ($1, 0) RETURNING id"};
const Statement kAddRefs{"move_add_refs",
                         "UPDATE shared_payloads SET refs = refs + $2 WHERE id = $1"};
// The source side's delete, as PgStore::delete_account does it (pg_accounts.cpp).
const Statement kLockAccount{"move_lock_account",
                             "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE"};
const Statement kLockDevicesOfAccount{"move_lock_devices",
                                      "SELECT 1 FROM devices WHERE account_id = $1 FOR UPDATE"};
const Statement kDeleteAccount{"move_delete_account", "DELETE FROM accounts WHERE id = $1"};
const Statement kInsertEntries{
    "move_insert_entries",
    "INSERT INTO messages (account_id, device_id, seq, sender_account, sender_device,"
    " timestamp_ms, payload, shared_id)"
    " SELECT $1::bytea, e.dev, e.seq, decode(e.sa, 'hex'), e.sd, e.ts, decode(e.p, 'hex'), e.sh"
    " FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[],"
    " $7::text[], $8::bigint[]) AS e(dev, seq, sa, sd, ts, p, sh)"};

// Every row of one account except its mailbox, exactly as stored (compared field by field when
// the account is found on both sides).
struct AccountRows {
  struct DeviceRow {
    std::int64_t device_id = 0;
    Bytes public_key;
    std::int64_t registration_id = 0;
    std::int64_t created_ms = 0;
    std::int64_t last_seen_ms = 0;
    std::int64_t next_seq = 0;
    bool operator==(const DeviceRow&) const = default;
  };
  struct SignedPrekeyRow {
    std::int64_t device_id = 0;
    std::int64_t key_id = 0;
    Bytes public_key;
    Bytes signature;
    bool operator==(const SignedPrekeyRow&) const = default;
  };
  struct OneTimePrekeyRow {
    std::int64_t device_id = 0;
    std::int64_t key_id = 0;
    Bytes public_key;
    bool operator==(const OneTimePrekeyRow&) const = default;
  };

  Bytes identity_key;
  std::optional<std::string> username;
  std::int64_t created_ms = 0;
  Bytes signed_device_list;
  std::vector<DeviceRow> devices;
  std::vector<SignedPrekeyRow> signed_prekeys;
  std::vector<OneTimePrekeyRow> one_time_prekeys;
  bool operator==(const AccountRows&) const = default;
};

// One mailbox entry. shared_id is the database's own id and differs between the two sides, so
// entries are compared by content.
struct EntryRow {
  std::int64_t device_id = 0;
  std::int64_t seq = 0;
  std::optional<Bytes> sender_account;
  std::optional<std::int64_t> sender_device;
  std::int64_t timestamp_ms = 0;
  std::optional<Bytes> payload;           // its own bytes, or
  std::optional<std::int64_t> shared_id;  // the shared payload it refers to,
  Bytes shared_payload;                   // whose bytes these are

  bool same_content(const EntryRow& other) const {
    return device_id == other.device_id && seq == other.seq &&
           sender_account == other.sender_account && sender_device == other.sender_device &&
           timestamp_ms == other.timestamp_ms && payload == other.payload &&
           shared_id.has_value() == other.shared_id.has_value() &&
           shared_payload == other.shared_payload;
  }
};

// Where the next page of entries starts: after this (device, seq).
struct EntryCursor {
  std::int64_t device_id = -1;
  std::int64_t seq = -1;
};

std::optional<Bytes> optional_bytes(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return pg::bytes_of(field);
}

std::optional<std::int64_t> optional_int(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<std::int64_t>();
}

// The account's rows on the database `db` talks to; nullopt when it has no such account.
std::optional<AccountRows> read_account(Session& db, const AccountId& id) {
  pqxx::result account = db.exec(kAccount, bin(id));
  if (account.empty()) return std::nullopt;
  AccountRows rows;
  rows.identity_key = pg::bytes_of(account[0][0]);
  if (!account[0][1].is_null()) rows.username = account[0][1].as<std::string>();
  rows.created_ms = account[0][2].as<std::int64_t>();
  rows.signed_device_list = pg::bytes_of(account[0][3]);
  for (const pqxx::row& row : db.exec(kDevices, bin(id))) {
    rows.devices.push_back({row[0].as<std::int64_t>(), pg::bytes_of(row[1]),
                            row[2].as<std::int64_t>(), row[3].as<std::int64_t>(),
                            row[4].as<std::int64_t>(), row[5].as<std::int64_t>()});
  }
  for (const pqxx::row& row : db.exec(kSignedPrekeys, bin(id))) {
    rows.signed_prekeys.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(),
                                   pg::bytes_of(row[2]), pg::bytes_of(row[3])});
  }
  for (const pqxx::row& row : db.exec(kOneTimePrekeys, bin(id))) {
    rows.one_time_prekeys.push_back(
        {row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), pg::bytes_of(row[2])});
  }
  return rows;
}

std::vector<EntryRow> read_entries(Session& db, const AccountId& id, const EntryCursor& after) {
  std::vector<EntryRow> entries;
  for (const pqxx::row& row : db.exec(kEntries, bin(id), after.device_id, after.seq, kEntryPage)) {
    EntryRow entry;
    entry.device_id = row[0].as<std::int64_t>();
    entry.seq = row[1].as<std::int64_t>();
    entry.sender_account = optional_bytes(row[2]);
    entry.sender_device = optional_int(row[3]);
    entry.timestamp_ms = row[4].as<std::int64_t>();
    entry.payload = optional_bytes(row[5]);
    entry.shared_id = optional_int(row[6]);
    entry.shared_payload = pg::bytes_of(row[7]);
    entries.push_back(std::move(entry));
  }
  return entries;
}

EntryCursor cursor_after(const std::vector<EntryRow>& page) {
  return {page.back().device_id, page.back().seq};
}

void insert_account(Session& db, const AccountId& id, const AccountRows& rows) {
  if (rows.username) {
    db.exec(kInsertAccount, bin(id), bin(rows.identity_key), *rows.username, rows.created_ms,
            bin(rows.signed_device_list));
  } else {
    db.exec(kInsertAccount, bin(id), bin(rows.identity_key), nullptr, rows.created_ms,
            bin(rows.signed_device_list));
  }
  for (const auto& device : rows.devices) {
    db.exec(kInsertDevice, bin(id), device.device_id, bin(device.public_key),
            device.registration_id, device.created_ms, device.last_seen_ms, device.next_seq);
  }
  for (const auto& key : rows.signed_prekeys) {
    db.exec(kInsertSignedPrekey, bin(id), key.device_id, key.key_id, bin(key.public_key),
            bin(key.signature));
  }
  if (!rows.one_time_prekeys.empty()) {
    pg::ArrayLiteral devices, key_ids, keys;
    for (const auto& key : rows.one_time_prekeys) {
      devices.add_int(key.device_id);
      key_ids.add_int(key.key_id);
      keys.add_hex(key.public_key);
    }
    db.exec(kInsertOneTimePrekeys, bin(id), devices.str(), key_ids.str(), keys.str());
  }
}

std::string with_application_name(const std::string& conninfo) {
  // libpq takes the last value of a keyword given twice.
  return conninfo + " application_name=" + kApplicationName;
}

enum class Outcome { kCopied, kAlreadyThere, kRefused, kGone };

// One account of a batch and what the copy did with it.
struct BatchEntry {
  AccountId id{};
  Outcome outcome = Outcome::kGone;
  std::string reason;  // kRefused: why
  std::uint64_t devices = 0;
  std::uint64_t entries = 0;

  bool on_target() const {
    return outcome == Outcome::kCopied || outcome == Outcome::kAlreadyThere;
  }
};

// What one target transaction wrote besides rows: shared payloads made and references to add.
struct BatchPayloads {
  std::unordered_map<std::int64_t, std::int64_t> made;  // source id → new target id
  std::map<std::int64_t, std::int64_t> refs;            // target id → entries added
  std::set<std::int64_t> checked;  // payloads of earlier batches, found and locked here
};

class Mover {
 public:
  explicit Mover(const ShardMoveOptions& options)
      : options_(options),
        source_(with_application_name(options.source_conninfo), 1, options.connect_timeout_s),
        target_(with_application_name(options.target_conninfo), 1, options.connect_timeout_s) {
    for (std::uint32_t shard : options.shards) {
      if (shard < kLogicalShards) wanted_[shard] = true;
    }
  }

  Result<ShardMoveReport> run() {
    PARLEY_RETURN_IF_ERROR(prepare());
    PARLEY_RETURN_IF_ERROR(count_accounts());
    report_progress();
    // Deleting accounts behind the cursor does not disturb the listing.
    std::optional<AccountId> after;
    while (true) {
      std::vector<AccountId> page;
      PARLEY_RETURN_IF_ERROR(list_ids(after, page));
      if (page.empty()) break;
      after = page.back();
      std::vector<AccountId> wanted;
      for (const AccountId& id : page) {
        if (wanted_[ShardMap::shard_of(id)]) wanted.push_back(id);
      }
      for (std::size_t at = 0; at < wanted.size();) {
        std::size_t taken = 0;
        PARLEY_RETURN_IF_ERROR(move_batch(wanted, at, taken));
        at += taken;
      }
    }
    return report_;
  }

 private:
  // Locks both databases, refuses when nodes may still run, and migrates both schemas.
  Status prepare() {
    // Session-level locks, held by each pool's one connection until the run ends (a connection
    // that breaks loses its lock; the run then fails on its next statement or carries on alone).
    bool locked = false;
    auto try_lock = [&](Session& db) {
      locked = db.exec(kTryLock, kMoveLockKey).at(0)[0].as<bool>();
      return Status{};
    };
    PARLEY_RETURN_IF_ERROR(source_.run(try_lock).with_context("source database"));
    if (!locked) {
      return Status::error(ErrorCode::kFailedPrecondition,
                           "another shard move is running on the source database");
    }
    PARLEY_RETURN_IF_ERROR(target_.run(try_lock).with_context("target database"));
    if (!locked) {
      return Status::error(ErrorCode::kFailedPrecondition,
                           "the target database is the source database, or another shard move "
                           "is running on it");
    }
    if (options_.refuse_if_in_use) {
      PARLEY_RETURN_IF_ERROR(refuse_if_in_use(source_, "source"));
      PARLEY_RETURN_IF_ERROR(refuse_if_in_use(target_, "target"));
    }
    // Opening a PgStore migrates its database, as a starting node would.
    PgStoreOptions store_options;
    store_options.max_connections = 1;
    store_options.connect_timeout_s = options_.connect_timeout_s;
    for (const auto* which : {&options_.source_conninfo, &options_.target_conninfo}) {
      store_options.conninfo = with_application_name(*which);
      auto opened = PgStore::open(store_options);
      if (!opened.ok()) {
        return opened.status().with_context(which == &options_.source_conninfo ? "source database"
                                                                               : "target database");
      }
    }
    return {};
  }

  static Status refuse_if_in_use(const pg::Pool& pool, const std::string& which) {
    // A session whose client just disconnected (a node that was stopped a moment ago) stays in
    // pg_stat_activity until its backend has exited: give those a few seconds to go.
    std::uint64_t others = 0;
    for (int attempt = 0; attempt < kInUseChecks; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(kInUseCheckInterval);
      PARLEY_RETURN_IF_ERROR(pool.run([&](Session& db) {
        others =
            db.exec(kOtherSessions, std::string(kApplicationName)).at(0)[0].as<std::uint64_t>();
        return Status{};
      }));
      if (others == 0) return {};
    }
    return Status::error(ErrorCode::kFailedPrecondition,
                         std::to_string(others) + " other session(s) are connected to the " +
                             which +
                             " database: stop every parleyd node using it before moving shards");
  }

  // The next page of the source's account ids, in order, after `after` (none: the first).
  Status list_ids(const std::optional<AccountId>& after, std::vector<AccountId>& page) const {
    return source_.run([&](Session& db) {
      page.clear();
      pqxx::result rows = after ? db.exec(kAccountIds, bin(*after), kIdPage)
                                : db.exec(kAccountIds, nullptr, kIdPage);
      for (const pqxx::row& row : rows) page.push_back(pg::account_id_of(row[0]));
      return Status{};
    });
  }

  Status count_accounts() {
    std::optional<AccountId> after;
    while (true) {
      std::vector<AccountId> page;
      PARLEY_RETURN_IF_ERROR(list_ids(after, page));
      if (page.empty()) break;
      after = page.back();
      for (const AccountId& id : page) progress_.total += wanted_[ShardMap::shard_of(id)];
    }
    report_.accounts_total = progress_.total;
    return {};
  }

  void report_progress() const {
    if (options_.on_progress) options_.on_progress(progress_);
  }

  // Moves ids[at…]: as many as fit in one target transaction (`taken` says how many), then
  // deletes those now on the target from the source in one source transaction.
  Status move_batch(const std::vector<AccountId>& ids, std::size_t at, std::size_t& taken) {
    std::vector<BatchEntry> batch;
    BatchPayloads payloads;
    const std::size_t most = std::max<std::uint32_t>(options_.accounts_per_transaction, 1);
    // Step 1, the copy: one transaction on the target for the whole batch.
    Status copied = target_.run([&](Session& db) -> Status {
      batch.clear();
      payloads = BatchPayloads{};
      std::uint64_t entries = 0;
      for (std::size_t i = at;
           i < ids.size() && batch.size() < most && entries < kMaxEntriesPerTransaction; ++i) {
        BatchEntry entry;
        entry.id = ids[i];
        PARLEY_RETURN_IF_ERROR(copy_account(db, entry, payloads));
        entries += entry.entries;
        batch.push_back(std::move(entry));
      }
      for (const auto& [target_id, count] : payloads.refs) db.exec(kAddRefs, target_id, count);
      return Status{};
    });
    if (!copied.ok()) return copied;
    taken = batch.size();
    for (const auto& [source_id, target_id] : payloads.made)
      copied_payloads_[source_id] = target_id;
    report_.shared_payloads_copied += payloads.made.size();

    if (options_.after_copy) {
      for (const BatchEntry& entry : batch) {
        if (entry.on_target()) PARLEY_RETURN_IF_ERROR(options_.after_copy(entry.id));
      }
    }
    // Step 2, only now that the target committed: the delete, as PgStore::delete_account does
    // it (mailbox entries first, releasing the source's shared payloads; the cascade then
    // removes devices and keys).
    Status deleted = source_.run([&](Session& db) {
      for (const BatchEntry& entry : batch) {
        if (!entry.on_target()) continue;
        if (db.exec(kLockAccount, bin(entry.id)).empty()) continue;  // already gone
        db.exec(kLockDevicesOfAccount, bin(entry.id));
        pg::delete_entries(db, pg::kDeleteAccountEntries, bin(entry.id));
        db.exec(kDeleteAccount, bin(entry.id));
      }
      return Status{};
    });
    if (!deleted.ok()) return deleted.with_context("deleting copied accounts from the source");

    for (BatchEntry& entry : batch) {
      switch (entry.outcome) {
        case Outcome::kCopied:
          ++report_.accounts_copied;
          report_.devices_copied += entry.devices;
          report_.messages_copied += entry.entries;
          break;
        case Outcome::kAlreadyThere:
          ++report_.accounts_finished;
          break;
        case Outcome::kRefused:
          report_.refused.push_back({entry.id, std::move(entry.reason)});
          break;
        case Outcome::kGone:  // deleted from the source meanwhile: nothing left to move
          break;
      }
      ++progress_.done;
      report_progress();
    }
    return {};
  }

  // One account inside the batch's target transaction (see the header for the rule).
  Status copy_account(Session& db, BatchEntry& entry, BatchPayloads& payloads) {
    const AccountId& id = entry.id;
    std::optional<AccountRows> rows;
    PARLEY_RETURN_IF_ERROR(source_.run([&](Session& source) {
      rows = read_account(source, id);
      return Status{};
    }));
    if (!rows) {
      entry.outcome = Outcome::kGone;
      return {};
    }
    if (std::optional<AccountRows> there = read_account(db, id)) {
      bool same = *there == *rows;
      if (same) PARLEY_RETURN_IF_ERROR(same_mailboxes(db, id, same));
      entry.outcome = same ? Outcome::kAlreadyThere : Outcome::kRefused;
      if (!same) entry.reason = "it is on the target already, with different rows";
      return {};
    }
    entry.outcome = Outcome::kRefused;
    if (!db.exec(kHolderOfIdentityKey, bin(rows->identity_key), bin(id)).empty()) {
      entry.reason = "another account on the target has its identity key";
      return {};
    }
    if (rows->username && !db.exec(kHolderOfUsername, *rows->username, bin(id)).empty()) {
      entry.reason = "another account on the target has its username";
      return {};
    }
    insert_account(db, id, *rows);
    PARLEY_RETURN_IF_ERROR(copy_entries(db, id, payloads, entry.entries));
    entry.devices = rows->devices.size();
    entry.outcome = Outcome::kCopied;
    return {};
  }

  // The account's mailbox entries, page by page from the source, into the target transaction.
  Status copy_entries(Session& db, const AccountId& id, BatchPayloads& payloads,
                      std::uint64_t& entries) {
    EntryCursor after;
    while (true) {
      std::vector<EntryRow> page;
      PARLEY_RETURN_IF_ERROR(source_.run([&](Session& source) {
        page = read_entries(source, id, after);
        return Status{};
      }));
      if (page.empty()) break;
      after = cursor_after(page);
      pg::ArrayLiteral devices, seqs, senders, sender_devices, timestamps, bytes, shared;
      for (const EntryRow& entry : page) {
        devices.add_int(entry.device_id);
        seqs.add_int(entry.seq);
        if (entry.sender_account) {
          senders.add_hex(*entry.sender_account);
        } else {
          senders.add_null();
        }
        if (entry.sender_device) {
          sender_devices.add_int(*entry.sender_device);
        } else {
          sender_devices.add_null();
        }
        timestamps.add_int(entry.timestamp_ms);
        if (!entry.shared_id) {
          bytes.add_hex(entry.payload.value_or(Bytes{}));
          shared.add_null();
          continue;
        }
        const std::int64_t target_id =
            target_payload(db, *entry.shared_id, entry.shared_payload, payloads);
        ++payloads.refs[target_id];
        bytes.add_null();
        shared.add_int(target_id);
      }
      db.exec(kInsertEntries, bin(id), devices.str(), seqs.str(), senders.str(),
              sender_devices.str(), timestamps.str(), bytes.str(), shared.str());
      entries += page.size();
    }
    return {};
  }

  // The target's copy of the source's shared payload `source_id`: one copied earlier in this
  // run (still there: nodes are stopped, but it is checked and locked anyway) or a new row.
  std::int64_t target_payload(Session& db, std::int64_t source_id, const Bytes& payload,
                              BatchPayloads& payloads) {
    if (auto made = payloads.made.find(source_id); made != payloads.made.end()) {
      return made->second;
    }
    if (auto earlier = copied_payloads_.find(source_id); earlier != copied_payloads_.end()) {
      if (payloads.checked.contains(earlier->second) ||
          !db.exec(kLockPayload, earlier->second).empty()) {
        payloads.checked.insert(earlier->second);
        return earlier->second;
      }
    }
    const std::int64_t made = db.exec(kInsertPayload, bin(payload)).at(0)[0].as<std::int64_t>();
    payloads.made[source_id] = made;
    return made;
  }

  // Whether the account's mailbox on the target (`db`) holds exactly the source's entries.
  Status same_mailboxes(Session& db, const AccountId& id, bool& same) {
    EntryCursor after;
    while (true) {
      std::vector<EntryRow> page;
      PARLEY_RETURN_IF_ERROR(source_.run([&](Session& source) {
        page = read_entries(source, id, after);
        return Status{};
      }));
      std::vector<EntryRow> there = read_entries(db, id, after);
      if (page.size() != there.size()) {
        same = false;
        return {};
      }
      if (page.empty()) break;
      for (std::size_t i = 0; i < page.size(); ++i) {
        if (!page[i].same_content(there[i])) {
          same = false;
          return {};
        }
      }
      after = cursor_after(page);
    }
    same = true;
    return {};
  }

  const ShardMoveOptions& options_;
  pg::Pool source_;
  pg::Pool target_;
  std::vector<bool> wanted_ = std::vector<bool>(kLogicalShards, false);
  // Shared payloads this run copied: source id → target id (so a group message to several moved
  // accounts is stored once on the target).
  std::unordered_map<std::int64_t, std::int64_t> copied_payloads_;
  ShardMoveProgress progress_;
  ShardMoveReport report_;
};

}  // namespace

Result<ShardMoveReport> move_shards(const ShardMoveOptions& options) {
  if (options.shards.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "no shards to move");
  }
  for (std::uint32_t shard : options.shards) {
    if (shard >= kLogicalShards) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "logical shard " + std::to_string(shard) + " does not exist (0-" +
                               std::to_string(kLogicalShards - 1) + ")");
    }
  }
  if (options.source_conninfo.empty() || options.target_conninfo.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "a connection string is empty");
  }
  Mover mover(options);
  return mover.run();
}

}  // namespace parley::store
