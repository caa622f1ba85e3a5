// SPDX-License-Identifier: AGPL-3.0-or-later
// Measures PgStore appends against a throwaway PostgreSQL 15 (started like the tests start it):
// N threads append single-message requests with dedupe keys to their own mailboxes for a few
// seconds through one PgStore with N connections, then the program prints appends per second
// and appends per WAL flush (pg_stat_wal.wal_sync: PostgreSQL's own group commit).
//
//   parley_store_pg_append_bench [threads=16] [seconds=5] [connections=threads] [max_batch=32]
//
// Needs root (the server runs as the postgres user) or to run as postgres.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "../test/postgres_process.h"
#include "parley/store/pg_store.h"

using namespace parley;
using namespace parley::store;

namespace {

AccountId account_for(int thread) {
  AccountId id{};
  id[0] = 0xbe;
  id[14] = static_cast<std::uint8_t>(thread >> 8);
  id[15] = static_cast<std::uint8_t>(thread);
  return id;
}

int fail(const Status& status) {
  (void)std::fprintf(stderr, "error: %s\n", status.to_string().c_str());
  return 1;
}

std::uint64_t wal_syncs(const std::string& conninfo) {
  pqxx::connection connection(conninfo);
  pqxx::nontransaction work(connection);
  return work.exec("SELECT wal_sync FROM pg_stat_wal")[0][0].as<std::uint64_t>();
}

int run(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 16;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  const int connections = argc > 3 ? std::atoi(argv[3]) : threads;
  const int max_batch = argc > 4 ? std::atoi(argv[4]) : 32;
  testing::PostgresProcess server;
  if (!server.ok() || !server.create_database("bench")) {
    (void)std::fprintf(stderr, "postgres: %s\n", server.failure().c_str());
    return 1;
  }
  const std::string conninfo = server.conninfo("bench");
  auto opened = PgStore::open({.conninfo = conninfo,
                               .max_connections = static_cast<std::uint32_t>(connections),
                               .max_append_batch = static_cast<std::uint32_t>(max_batch)});
  if (!opened.ok()) return fail(opened.status());
  PgStore& store = **opened;
  for (int t = 0; t < threads; ++t) {
    Account account;
    account.id = account_for(t);
    account.identity_key = Bytes(33, static_cast<std::uint8_t>(t));
    account.identity_key[1] = static_cast<std::uint8_t>(t >> 8);
    if (Status s = store.create_account(account); !s.ok()) return fail(s);
    Device device;
    device.account_id = account.id;
    device.device_id = 1;
    device.public_key = Bytes(33, 1);
    if (Status s = store.add_device(device, 1); !s.ok()) return fail(s);
  }

  const std::uint64_t syncs_before = wal_syncs(conninfo);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> appended{0};
  std::atomic<std::uint64_t> errors{0};
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::uint64_t i = 0; !stop.load(); ++i) {
        AppendRequest request;
        request.envelopes = {NewEnvelope{{account_for(t), 1}, std::nullopt, 1, Bytes(200, 7)}};
        request.dedupe_key = to_bytes(std::to_string(t) + ":" + std::to_string(i));
        request.now_ms = 1;
        if (store.append_messages(request).ok()) {
          ++appended;
        } else {
          ++errors;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (std::thread& worker : workers) worker.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t syncs = wal_syncs(conninfo) - syncs_before;
  const StoreStats stats = store.stats();
  const auto count = [](std::uint64_t value) { return static_cast<unsigned long long>(value); };
  std::printf(
      "threads=%d connections=%d max_batch=%d seconds=%.1f appends=%llu errors=%llu "
      "appends/s=%.0f coalesced=%llu wal_syncs=%llu appends/wal_sync=%.2f\n",
      threads, connections, max_batch, elapsed, count(appended.load()), count(errors.load()),
      static_cast<double>(appended.load()) / elapsed,
      count(stats.writes_done_by_leader + stats.writes_done_by_other), count(syncs),
      syncs == 0 ? 0.0 : static_cast<double>(appended.load()) / static_cast<double>(syncs));
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a pqxx error reading pg_stat_wal
    (void)std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
