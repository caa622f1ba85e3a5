// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Which store parleyd runs on: the embedded RocksDB store and attachment files in --data-dir (one
// node, the default), or PostgreSQL when --postgres is set (cluster mode: many nodes share it,
// accounts spread over the backends by --shard-map, attachments in the first backend).

#include <memory>

#include "config.h"
#include "parley/store/blob_store.h"
#include "parley/store/store.h"
#include "parley/util/status.h"

namespace parley::parleyd {

struct Stores {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::BlobStore> blobs;
};

// Opens them and logs what was opened. Errors say which store and why, without user data.
Result<Stores> open_stores(const ServeSettings& settings);

}  // namespace parley::parleyd
