// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// move_shards(): moves every account of some logical shards (ShardMap::shard_of) from one
// PostgreSQL backend to another, with its devices, keys and mailboxes. `parleyd move-shards` runs
// it; lib/store/pg/README.md ("Sharding") is the operator's procedure.
//
// OFFLINE ONLY: every parleyd node using either database must be stopped for the whole run, and
// started afterwards with the new shard map. A node still writing to the source after an account
// was copied would lose that write. So, unless `refuse_if_in_use` is off, the run refuses to start
// while any other client session is connected to either database; and it holds an advisory lock
// on both for its whole run, so two runs cannot overlap and a target that is the source database
// under another name is refused.
//
// The accounts on the source whose shard is listed go in account id order, in batches
// (`accounts_per_transaction`, fewer when their mailboxes are large):
//  1. Copy: ONE transaction on the target writes each account of the batch, its devices (with
//     their sequence counters), signed and one-time prekeys and mailbox entries (same seqs, same
//     order), and the shared payloads (group messages) those entries refer to: as new rows with
//     the target's own ids (the source's ids could collide), their reference counts being the
//     number of copied entries that point at them. A payload shared by several moved accounts is
//     copied once per run and its count added to.
//  2. Delete: only after the target committed, one transaction on the source deletes those
//     accounts exactly as PgStore::delete_account() does (the same statement releases their
//     mailbox entries): the source's shared payloads lose those references and are freed with
//     their last one.
//
// Killed at any point, a second run with the same arguments finishes the job without duplicates
// or loss. The rule for each account still on the source:
//  - not on the target: copied, then deleted from the source;
//  - on the target with exactly the same rows (the previous run stopped between 1 and 2): not
//    copied again, only deleted from the source;
//  - on the target with rows that differ (something wrote to one side between the runs):
//    refused, nothing done for it (an operator decides which side is current);
//  - another account on the target already has its username or identity key: refused, nothing
//    done for it (uniqueness across backends is only checked before writes, sharded_store.h).
// A refused account stays on the source; the run goes on with the others and lists it in the
// report. While any is refused the nodes must NOT be started with the new map (the account would
// be unreachable): resolve it and run again.
//
// Not moved: dedupe rows (keyed by the sender's request, not by account: they stay where they
// are, so a client retry that straddles the move can be stored once more) and attachments
// (PgBlobStore lives on backend 0 and is not sharded).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "parley/store/records.h"
#include "parley/util/status.h"

namespace parley::store {

struct ShardMoveProgress {
  std::uint64_t done = 0;   // accounts handled so far (copied, finished or refused)
  std::uint64_t total = 0;  // accounts of the listed shards on the source when the run began
};

struct ShardMoveOptions {
  // libpq connection strings (as PgStoreOptions::conninfo) of the source and the target.
  std::string source_conninfo;
  std::string target_conninfo;
  // The logical shards to move (each below kLogicalShards; duplicates are ignored).
  std::vector<std::uint32_t> shards;
  std::uint32_t connect_timeout_s = 5;
  // Refuse to start while other client sessions are connected to either database (a parleyd
  // node that still runs). Off only when they are known not to write (a monitoring agent).
  bool refuse_if_in_use = true;
  // Called after each account, on the calling thread.
  std::function<void(const ShardMoveProgress&)> on_progress;
  // Accounts copied per target transaction (and deleted per source transaction).
  std::uint32_t accounts_per_transaction = 64;
  // Called between the two steps, for each account of a batch that is on the target (committed
  // now or found there), before the batch is deleted from the source. An error stops the run and
  // is returned. For tests: a crash at the worst moment.
  std::function<Status(const AccountId&)> after_copy;
};

struct RefusedAccount {
  AccountId id{};
  std::string reason;  // no user data: which check failed
};

struct ShardMoveReport {
  std::uint64_t accounts_total = 0;     // as ShardMoveProgress::total
  std::uint64_t accounts_copied = 0;    // copied to the target and deleted from the source
  std::uint64_t accounts_finished = 0;  // already on the target from an earlier run: deleted
  std::vector<RefusedAccount> refused;  // left on the source, untouched
  std::uint64_t devices_copied = 0;
  std::uint64_t messages_copied = 0;         // mailbox entries
  std::uint64_t shared_payloads_copied = 0;  // new shared payload rows on the target

  // True when every account of the listed shards is now on the target only.
  bool complete() const { return refused.empty(); }
};

// Runs the move (see the top of this file). Migrates both databases to this binary's schema
// first, as a starting node would. Errors: kInvalidArgument (no shards, a shard out of range),
// kFailedPrecondition (other sessions connected; another run holds a database; source and
// target are one database), kUnavailable and the store's other errors from either server: the
// run stops there, everything finished so far stays finished, and running again continues.
Result<ShardMoveReport> move_shards(const ShardMoveOptions& options);

}  // namespace parley::store
