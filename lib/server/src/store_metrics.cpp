// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/server/store_metrics.h"

namespace parley::server {

void export_store_metrics(Metrics& metrics, const store::Store& store) {
  using Type = Metrics::Type;
  metrics.describe("parley_store_envelopes_written_total", Type::kCounter,
                   "Message copies durably appended to mailboxes (retries not counted).");
  metrics.describe("parley_store_duplicate_appends_total", Type::kCounter,
                   "Sends answered from the dedupe record without writing again.");
  metrics.describe("parley_store_engine_writes_total", Type::kCounter,
                   "Synced write batches that reached the storage engine.");
  metrics.describe("parley_store_grouped_writes_total", Type::kCounter,
                   "Write batches committed by another writer's fsync (group commit).");
  metrics.describe("parley_store_wal_syncs_total", Type::kCounter, "Write-ahead-log fsyncs.");
  metrics.describe("parley_store_wal_bytes_total", Type::kCounter, "Bytes appended to the WAL.");
  metrics.describe("parley_store_envelopes_per_fsync", Type::kGauge,
                   "Message copies per WAL fsync since start: the group-commit gain.");
  metrics.describe("parley_store_wal_sync_seconds", Type::kGauge,
                   "WAL fsync latency since start, by quantile.");

  metrics.add_collector([&store](Metrics& m) {
    const store::StoreStats s = store.stats();
    m.set_counter("parley_store_envelopes_written_total", "",
                  static_cast<double>(s.envelopes_written));
    m.set_counter("parley_store_duplicate_appends_total", "",
                  static_cast<double>(s.duplicate_appends));
    m.set_counter("parley_store_engine_writes_total", "", static_cast<double>(s.engine_writes));
    m.set_counter("parley_store_grouped_writes_total", "",
                  static_cast<double>(s.writes_done_by_other));
    m.set_counter("parley_store_wal_syncs_total", "", static_cast<double>(s.wal_syncs));
    m.set_counter("parley_store_wal_bytes_total", "", static_cast<double>(s.wal_bytes));
    m.set_gauge("parley_store_envelopes_per_fsync", "", s.envelopes_per_sync());
    m.set_gauge("parley_store_wal_sync_seconds", "quantile=\"0.5\"",
                s.wal_sync_micros_median / 1e6);
    m.set_gauge("parley_store_wal_sync_seconds", "quantile=\"0.99\"", s.wal_sync_micros_p99 / 1e6);
    m.set_gauge("parley_store_wal_sync_seconds", "quantile=\"1\"", s.wal_sync_micros_max / 1e6);
  });
}

}  // namespace parley::server
