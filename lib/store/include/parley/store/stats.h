// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Counters a store exposes so the server can report durability cost, e.g. messages per fsync.
// Every field is cumulative since the store was opened; a backend that has no such notion
// (the in-memory store has no disk) leaves it at zero.

#include <cstdint>

namespace parley::store {

struct StoreStats {
  std::uint64_t mutations = 0;          // acknowledged mutating calls that wrote something
  std::uint64_t envelopes_written = 0;  // message copies appended (duplicates not counted)
  std::uint64_t duplicate_appends = 0;  // append_messages() calls answered from the dedupe record
  std::uint64_t shared_payloads_written = 0;  // shared payloads stored (each once, for N entries)
  // NOT cumulative: shared payloads stored right now (referenced by at least one mailbox entry).
  // RocksDbStore counts them at open and keeps the count in step with its writes.
  std::uint64_t shared_payloads_live = 0;

  // Storage engine counters (RocksDB tickers).
  std::uint64_t engine_writes = 0;          // write calls that reached the engine (WRITE_WITH_WAL)
  std::uint64_t writes_done_by_leader = 0;  // write-group leaders (WRITE_DONE_BY_SELF)
  std::uint64_t writes_done_by_other = 0;   // writes committed by another leader (…_BY_OTHER)
  std::uint64_t wal_syncs = 0;              // WAL fsyncs (WAL_FILE_SYNCED)
  std::uint64_t wal_bytes = 0;              // bytes appended to the WAL (WAL_FILE_BYTES)
  std::uint64_t bytes_written = 0;          // user bytes written (BYTES_WRITTEN)

  // WAL fsync latency in microseconds (WAL_FILE_SYNC_MICROS histogram).
  double wal_sync_micros_median = 0;
  double wal_sync_micros_p99 = 0;
  double wal_sync_micros_max = 0;
  std::uint64_t last_write_micros = 0;  // duration of the most recent synced write, as we saw it

  // Envelopes per WAL fsync: the group-commit gain (0 when nothing was synced).
  double envelopes_per_sync() const {
    return wal_syncs == 0 ? 0.0
                          : static_cast<double>(envelopes_written) / static_cast<double>(wal_syncs);
  }
};

}  // namespace parley::store
