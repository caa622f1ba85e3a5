// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// PgStore: the Store on PostgreSQL 15 (cluster mode: many stateless parleyd nodes share it).
//
// - Every Store call is one transaction on one pooled connection, committed with
//   synchronous_commit = on (set per session, so a server default cannot weaken it): an ok answer
//   means the write is in PostgreSQL's durable WAL (and on a synchronous standby when the server
//   is configured with one).
// - The schema is versioned: open() applies the compiled-in migrations (lib/store/pg/migrations)
//   that the database lacks, in one transaction, and refuses a database whose schema is newer
//   than this binary (kFailedPrecondition).
// - A broken connection is replaced; the transaction is retried once when it certainly did not
//   commit, as are deadlock and serialization aborts. While the server is unreachable calls fail
//   with kUnavailable; they work again once it is back, without reopening the store.
// - Appends are coalesced under load (PgStoreOptions::max_append_batch): callers beyond the
//   connection count share one transaction, each request behind its own savepoint, so one
//   refused request does not affect the others; each still returns only after the commit.
// - Errors never carry PostgreSQL's message text (it can quote stored values): only the SQLSTATE.

#include <cstdint>
#include <memory>
#include <string>

#include "parley/store/store.h"

namespace parley::store {

struct PgStoreOptions {
  // libpq connection string, e.g. "host=127.0.0.1 port=5432 dbname=parley user=parley".
  std::string conninfo;
  // At most this many connections (one per concurrent caller); further callers wait for one.
  std::uint32_t max_connections = 8;
  // Seconds libpq waits to connect before a call fails with kUnavailable.
  std::uint32_t connect_timeout_s = 5;
  // When more appends arrive than there are connections, up to this many waiting ones share one
  // transaction (one commit) instead of each waiting for a connection. 1: never coalesce.
  std::uint32_t max_append_batch = 32;
};

class PgStore final : public Store {
 public:
  // Connects, migrates the schema and returns the store. kUnavailable if the server cannot be
  // reached, kFailedPrecondition if the database has a newer schema than this binary knows.
  static Result<std::unique_ptr<PgStore>> open(const PgStoreOptions& options);

  // The newest schema version this binary carries.
  static std::int64_t latest_schema_version();

  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  Status create_account(const Account& account) override;
  Result<Account> get_account(const AccountId& id) const override;
  Result<Account> find_account_by_username(std::string_view username) const override;
  Result<Account> find_account_by_identity_key(ByteView identity_key) const override;
  Status set_username(const AccountId& id, std::optional<std::string_view> username) override;
  Status set_signed_device_list(const AccountId& id, ByteView signed_device_list) override;
  Status delete_account(const AccountId& id) override;

  Status add_device(const Device& device, std::uint32_t max_devices) override;
  Result<Device> get_device(const DeviceAddress& address) const override;
  Result<std::vector<Device>> list_devices(const AccountId& id) const override;
  Status touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) override;
  Status remove_device(const DeviceAddress& address) override;

  Status set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) override;
  Result<SignedPrekey> get_signed_prekey(const DeviceAddress& address) const override;
  Status add_one_time_prekeys(const DeviceAddress& address, std::span<const OneTimePrekey> prekeys,
                              std::uint32_t max_stored) override;
  Result<std::optional<OneTimePrekey>> claim_one_time_prekey(const DeviceAddress& address) override;
  Result<std::uint64_t> count_one_time_prekeys(const DeviceAddress& address) const override;

  Result<AppendResult> append_messages(const AppendRequest& request) override;
  Result<std::vector<StoredEnvelope>> read_messages(const DeviceAddress& address,
                                                    std::uint64_t after_seq,
                                                    std::uint32_t max_count) const override;
  Result<std::uint64_t> delete_messages(const DeviceAddress& address,
                                        std::span<const std::uint64_t> seqs) override;
  Result<std::uint64_t> count_messages(const DeviceAddress& address) const override;
  Result<std::uint64_t> purge_messages_older_than(std::int64_t cutoff_ms) override;
  Result<std::uint64_t> purge_dedupe_keys_older_than(std::int64_t cutoff_ms) override;

  // Counts calls and envelopes in this process; shared_payloads_live is read from the database
  // (0 if it cannot be reached). The engine fields stay zero.
  StoreStats stats() const override;

  struct Impl;

 private:
  explicit PgStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::store
