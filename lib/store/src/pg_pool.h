// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The connection pool and the one way PgStore talks to PostgreSQL: Pool::run() executes a body in
// one transaction on one pooled connection and turns every libpqxx exception into a Status.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>  // the whole 6.x API: connection, work, result and its iterators
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/util/status.h"

namespace parley::store::pg {

// A statement prepared once per connection, on first use. Kept next to the code that runs it.
struct Statement {
  const char* name;
  const char* sql;
};

// One pooled connection: libpqxx's connection and the statements already prepared on it.
struct PooledConnection {
  std::unique_ptr<pqxx::connection> connection;  // null: connect before use
  std::set<std::string, std::less<>> prepared;
};

// What a body sees: the open transaction, and prepared statements on its connection.
class Session {
 public:
  Session(pqxx::work& work, PooledConnection& pooled) : work_(work), pooled_(pooled) {}

  template <typename... Args>
  pqxx::result exec(const Statement& statement, Args&&... args) {
    if (!pooled_.prepared.contains(std::string_view(statement.name))) {
      pooled_.connection->prepare(statement.name, statement.sql);
      pooled_.prepared.emplace(statement.name);
    }
    return work_.exec_prepared(statement.name, std::forward<Args>(args)...);
  }

  pqxx::work& work() { return work_; }

 private:
  pqxx::work& work_;
  PooledConnection& pooled_;
};

class Pool {
 public:
  Pool(std::string conninfo, std::uint32_t max_connections, std::uint32_t connect_timeout_s);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs `body` in one transaction and commits it when the body returns ok (a body error rolls
  // back and is returned as is). The body may run more than once: when the connection broke
  // before the commit (so nothing was committed; once, on a fresh connection) and when
  // PostgreSQL aborted it for a deadlock or serialization conflict. It must therefore reset
  // whatever it writes outside the database at its start. A connection lost during the commit
  // itself is kUnavailable: the write may or may not have happened (callers retry appends with
  // their dedupe key).
  Status run(const std::function<Status(Session&)>& body) const;

 private:
  class Lease;
  std::unique_ptr<PooledConnection> acquire() const;
  void give_back(std::unique_ptr<PooledConnection> connection) const;
  void connect(PooledConnection& pooled) const;

  std::string conninfo_;
  std::uint32_t max_connections_;
  mutable std::mutex mutex_;
  mutable std::condition_variable available_;
  mutable std::vector<std::unique_ptr<PooledConnection>> idle_;
  mutable std::uint32_t created_ = 0;
};

}  // namespace parley::store::pg
