// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// PgStore::append_messages in two parts: write_append() writes one request inside a transaction
// it is given, and AppendBatcher decides which transaction: when more appends arrive than there
// are connections, the waiting ones are coalesced into one transaction (one commit, one WAL
// flush) instead of queueing for a connection each.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "parley/store/records.h"
#include "pg_pool.h"
#include "pg_sql.h"

namespace parley::store::pg {

// What an append needs besides the request, computed once before any transaction.
struct PreparedAppend {
  explicit PreparedAppend(const AppendRequest& request);

  const AppendRequest& request;
  std::map<DeviceAddress, std::uint64_t> added;  // distinct recipients (address order) → copies
  std::string recipient_accounts;                // `added` as array literals
  std::string recipient_devices;
  std::uint64_t references = 0;  // envelopes that refer to the shared payload
};

// Writes `append` in the caller's transaction and fills `result`. A refusal (unknown device,
// full mailbox) is returned as a Status after writing nothing; the caller rolls back.
Status write_append(Session& db, const PreparedAppend& append, AppendResult& result);

// Locks the recipients of all `appends` at once, in address order: a batch then holds every
// device lock it needs before writing, so two batches cannot deadlock on each other's devices.
void lock_recipients(Session& db, const std::vector<const PreparedAppend*>& appends);

class AppendBatcher {
 public:
  // At most `max_batch` appends per transaction and `max_leaders` transactions at once (the
  // pool's size, so that a batch never waits for a connection).
  AppendBatcher(const Pool& pool, std::uint32_t max_batch, std::uint32_t max_leaders);

  // Writes `append` alone or with others; returns once its transaction committed (or failed).
  Result<AppendResult> submit(const PreparedAppend& append);

  // Appends that shared a transaction with others, and transactions that held more than one.
  std::uint64_t coalesced() const;
  std::uint64_t batches() const;

 private:
  struct Pending {
    const PreparedAppend* append;
    Result<AppendResult> result = Status::error(ErrorCode::kInternal, "append not run");
    bool done = false;
  };
  void run_batch(const std::vector<Pending*>& batch);

  const Pool& pool_;
  const std::size_t max_batch_;
  const std::uint32_t max_leaders_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending*> queue_;
  std::uint32_t leaders_ = 0;
  std::uint64_t coalesced_ = 0;
  std::uint64_t batches_ = 0;
};

}  // namespace parley::store::pg
