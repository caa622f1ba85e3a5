// SPDX-License-Identifier: AGPL-3.0-or-later
// AppendBatcher: concurrent appends coalesced into one transaction when connections run short.

#include "pg_append.h"

namespace parley::store::pg {

AppendBatcher::AppendBatcher(const Pool& pool, std::uint32_t max_batch, std::uint32_t max_leaders)
    : pool_(pool),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      max_leaders_(max_leaders == 0 ? 1 : max_leaders) {}

Result<AppendResult> AppendBatcher::submit(const PreparedAppend& append) {
  Pending mine{&append};
  std::unique_lock lock(mutex_);
  queue_.push_back(&mine);
  // Leader/follower: while fewer transactions run than there are connections, a caller takes
  // whatever is queued (its own request included, unless the batch filled up first) and runs
  // it; otherwise it waits, and its request rides in the next batch. Alone, a caller runs its
  // own request at once: batching costs nothing when there is no queue.
  while (!mine.done) {
    if (leaders_ < max_leaders_ && !queue_.empty()) {
      std::vector<Pending*> batch;
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      ++leaders_;
      lock.unlock();
      run_batch(batch);
      lock.lock();
      --leaders_;
      if (batch.size() > 1) {
        ++batches_;
        coalesced_ += batch.size();
      }
      for (Pending* pending : batch) pending->done = true;
      changed_.notify_all();
    } else {
      changed_.wait(lock);
    }
  }
  return std::move(mine.result);
}

void AppendBatcher::run_batch(const std::vector<Pending*>& batch) {
  std::vector<AppendResult> results(batch.size());
  std::vector<Status> outcomes(batch.size());
  Status status = pool_.run([&](Session& db) -> Status {
    if (batch.size() == 1) {
      outcomes[0] = write_append(db, *batch[0]->append, results[0]);
      return outcomes[0];  // a refusal rolls the transaction back
    }
    std::vector<const PreparedAppend*> appends;
    for (const Pending* pending : batch) appends.push_back(pending->append);
    lock_recipients(db, appends);
    // One savepoint per request: a refused request leaves no trace, the others still commit.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      db.work().exec("SAVEPOINT parley_append");
      outcomes[i] = write_append(db, *batch[i]->append, results[i]);
      db.work().exec(outcomes[i].ok() ? "RELEASE SAVEPOINT parley_append"
                                      : "ROLLBACK TO SAVEPOINT parley_append");
    }
    return Status{};
  });
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // The transaction's fate is every request's fate; within it, each request's own answer.
    if (!status.ok()) {
      batch[i]->result = status;
    } else if (!outcomes[i].ok()) {
      batch[i]->result = outcomes[i];
    } else {
      batch[i]->result = std::move(results[i]);
    }
  }
}

std::uint64_t AppendBatcher::coalesced() const {
  std::lock_guard lock(mutex_);
  return coalesced_;
}

std::uint64_t AppendBatcher::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

}  // namespace parley::store::pg
