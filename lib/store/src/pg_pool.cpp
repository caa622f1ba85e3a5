// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pg_pool.h"

#include <pqxx/except>
#include <string_view>

namespace parley::store::pg {
namespace {

// Deadlocks and serialization conflicts roll the transaction back; running it again is safe.
constexpr int kConflictRetries = 5;

Status unavailable() {
  return Status::error(ErrorCode::kUnavailable, "the database server is unreachable");
}

// Maps a failed statement by its SQLSTATE only: PostgreSQL's message text can quote stored values
// (a unique violation names the duplicate key), so it never reaches a Status or a log.
Status from_sqlstate(const std::string& state) {
  std::string_view code = state;
  if (code == "23505") return Status::error(ErrorCode::kAlreadyExists, "a unique value is taken");
  if (code == "53100") return Status::error(ErrorCode::kStorageFull, "the database disk is full");
  if (code.starts_with("08") || code.starts_with("57P") || code == "53300") return unavailable();
  if (code.starts_with("XX")) {
    return Status::error(ErrorCode::kStorageCorrupt,
                         "database internal error (SQLSTATE " + state + ")");
  }
  return Status::error(ErrorCode::kStorageIo, "database statement failed (SQLSTATE " + state + ")");
}

bool connection_lost(const std::string& state) {
  return state.empty() || state.starts_with("08") || state.starts_with("57P");
}

}  // namespace

// Hands a connection back to the pool however the caller leaves.
class Pool::Lease {
 public:
  explicit Lease(const Pool& pool) : pool_(pool), pooled_(pool.acquire()) {}
  ~Lease() { pool_.give_back(std::move(pooled_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  PooledConnection& operator*() { return *pooled_; }
  // Forgets a connection that failed; the next user of this slot connects afresh.
  void drop() {
    pooled_->connection.reset();
    pooled_->prepared.clear();
  }

 private:
  const Pool& pool_;
  std::unique_ptr<PooledConnection> pooled_;
};

Pool::Pool(std::string conninfo, std::uint32_t max_connections, std::uint32_t connect_timeout_s)
    // TCP keepalives: a server that vanished without closing the connection (a crashed host, a
    // cut network) is noticed in about 30 s instead of blocking a caller forever.
    : conninfo_(std::move(conninfo) + " connect_timeout=" + std::to_string(connect_timeout_s) +
                " keepalives=1 keepalives_idle=15 keepalives_interval=5 keepalives_count=3"),
      max_connections_(max_connections == 0 ? 1 : max_connections) {}

Pool::~Pool() = default;

std::unique_ptr<PooledConnection> Pool::acquire() const {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || created_ < max_connections_; });
  if (!idle_.empty()) {
    auto pooled = std::move(idle_.back());
    idle_.pop_back();
    return pooled;
  }
  ++created_;
  return std::make_unique<PooledConnection>();
}

void Pool::give_back(std::unique_ptr<PooledConnection> pooled) const {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(pooled));
  }
  available_.notify_one();
}

void Pool::connect(PooledConnection& pooled) const {
  pooled.prepared.clear();
  pooled.connection = std::make_unique<pqxx::connection>(conninfo_);
  // Durability must not depend on the server's defaults: an ok answer means the commit is flushed
  // (and on a synchronous standby, when one is configured).
  pooled.connection->set_variable("synchronous_commit", "on");
}

Status Pool::run(const std::function<Status(Session&)>& body) const {
  bool may_reconnect = true;
  int conflicts_left = kConflictRetries;
  Lease lease(*this);
  while (true) {
    PooledConnection& pooled = *lease;
    try {
      if (!pooled.connection || !pooled.connection->is_open()) connect(pooled);
      pqxx::work work(*pooled.connection);
      Session session(work, pooled);
      Status status = body(session);
      if (!status.ok()) {
        work.abort();
        return status;
      }
      work.commit();
      return status;
    } catch (const pqxx::in_doubt_error&) {
      lease.drop();
      return Status::error(ErrorCode::kUnavailable,
                           "the database connection broke during a commit; its outcome is unknown");
    } catch (const pqxx::broken_connection&) {
      // Raised before the commit was sent: the server rolls the transaction back, so one more
      // attempt on a new connection cannot apply it twice.
      lease.drop();
      if (std::exchange(may_reconnect, false)) continue;
      return unavailable();
    } catch (const pqxx::statement_completion_unknown&) {
      lease.drop();
      return Status::error(ErrorCode::kUnavailable,
                           "the database lost track of a statement; its outcome is unknown");
    } catch (const pqxx::transaction_rollback&) {
      if (conflicts_left-- > 0) continue;
      return Status::error(ErrorCode::kUnavailable,
                           "the database kept aborting the transaction for conflicts");
    } catch (const pqxx::sql_error& e) {
      // Class 40 (rollback: serialization failure, deadlock) when libpqxx did not map it to
      // transaction_rollback; 40003 (completion unknown) is not safe to repeat.
      if (e.sqlstate().starts_with("40") && e.sqlstate() != "40003" && conflicts_left-- > 0) {
        continue;
      }
      if (connection_lost(e.sqlstate())) {
        lease.drop();
        if (std::exchange(may_reconnect, false)) continue;
        return unavailable();
      }
      return from_sqlstate(e.sqlstate());
    } catch (const std::exception&) {
      // libpqxx usage or conversion errors: a bug or a value this store did not write.
      lease.drop();
      return Status::error(ErrorCode::kStorageIo, "database call failed");
    }
  }
}

}  // namespace parley::store::pg
