// SPDX-License-Identifier: AGPL-3.0-or-later
#include "store_setup.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "cluster_config.h"
#include "parley/store/file_blob_store.h"
#include "parley/store/pg_blob_store.h"
#include "parley/store/pg_store.h"
#include "parley/store/rocksdb_store.h"
#include "parley/store/sharded_store.h"

namespace parley::parleyd {

namespace {

namespace fs = std::filesystem;

Result<Stores> open_embedded(const ServeSettings& s) {
  Stores out;
  store::RocksDbOptions options;
  options.path = (fs::path(s.data_dir) / "store").string();
  auto store = store::RocksDbStore::open(options);
  if (!store.ok()) return store.status().with_context("cannot open the store in " + options.path);
  out.store = std::move(store).value();

  const std::string blob_dir = (fs::path(s.data_dir) / "blobs").string();
  auto blobs = store::FileBlobStore::open(blob_dir);
  if (!blobs.ok()) {
    return blobs.status().with_context("cannot open the attachment store in " + blob_dir);
  }
  const store::BlobStats stats = (*blobs)->stats();
  spdlog::info("  store           RocksDB in {}", fs::absolute(options.path).string());
  spdlog::info("  attachment dir  {} ({} attachments, {} bytes)", blob_dir, stats.blobs,
               stats.bytes_received);
  if (stats.quarantined > 0) {
    spdlog::warn("{} unreadable attachment files were renamed to *.corrupt in {}",
                 stats.quarantined, blob_dir);
  }
  out.blobs = std::move(blobs).value();
  return out;
}

Result<Stores> open_postgres(const ServeSettings& s, const std::vector<std::string>& backends) {
  std::vector<ShardRangeSpec> ranges;
  PARLEY_ASSIGN_OR_RETURN(ranges, parse_shard_map(s.shard_map, backends.size()));
  std::vector<store::ShardRange> store_ranges;
  for (const auto& range : ranges) store_ranges.push_back({range.first, range.last, range.backend});
  auto map = store_ranges.empty() ? store::ShardMap::evenly(backends.size())
                                  : store::ShardMap::from_ranges(store_ranges, backends.size());
  if (!map.ok()) return map.status().with_context("--shard-map");

  Stores out;
  std::vector<std::unique_ptr<store::Store>> opened;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    store::PgStoreOptions options;
    options.conninfo = backends[i];
    options.max_connections = s.postgres_connections;
    auto backend = store::PgStore::open(options);
    // The connection string may hold a password: name the backend by its position only.
    if (!backend.ok()) {
      return backend.status().with_context("PostgreSQL backend " + std::to_string(i));
    }
    opened.push_back(std::move(backend).value());
  }
  store::PgStoreOptions blob_options;
  blob_options.conninfo = backends.front();
  blob_options.max_connections = s.postgres_connections;
  auto blobs = store::PgBlobStore::open(blob_options);
  if (!blobs.ok()) return blobs.status().with_context("PostgreSQL attachment store (backend 0)");
  out.blobs = std::move(blobs).value();

  spdlog::info("  store           PostgreSQL: {} backend(s), {} connections each, schema v{}",
               backends.size(), s.postgres_connections, store::PgStore::latest_schema_version());
  spdlog::info("  shard map       {}",
               s.shard_map.empty() ? "1024 shards spread evenly" : s.shard_map);
  if (opened.size() == 1) {
    out.store = std::move(opened.front());
  } else {
    out.store = std::make_unique<store::ShardedStore>(std::move(opened), *map);
  }
  return out;
}

}  // namespace

Result<Stores> open_stores(const ServeSettings& settings) {
  std::vector<std::string> backends;
  PARLEY_ASSIGN_OR_RETURN(backends, parse_postgres_list(settings.postgres));
  if (backends.empty()) return open_embedded(settings);
  return open_postgres(settings, backends);
}

}  // namespace parley::parleyd
