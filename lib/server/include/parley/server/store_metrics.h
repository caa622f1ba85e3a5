// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Exposes the store's durability counters on /metrics: WAL fsyncs, message copies written, how
// many writes rode on another writer's fsync (group commit), fsync latency and messages per fsync.

#include "parley/server/metrics.h"
#include "parley/store/store.h"

namespace parley::server {

// Registers a collector reading `store.stats()` at each scrape. `store` must outlive `metrics`'
// last render.
void export_store_metrics(Metrics& metrics, const store::Store& store);

}  // namespace parley::server
