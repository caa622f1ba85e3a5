// SPDX-License-Identifier: AGPL-3.0-or-later
// PgStore::append_messages: one request written in a transaction (write_append), through the
// batcher (pg_append_batcher.cpp).

#include "pg_append.h"

#include "pg_impl.h"
#include "validation.h"

namespace parley::store {
namespace pg {
namespace {

// Taking the dedupe key first makes concurrent appends with one key write once: a second
// transaction's INSERT waits for the first and then finds the key taken (or, if the first rolled
// back, takes it itself).
const Statement kClaimDedupeKey{"claim_dedupe_key",
                                "INSERT INTO dedupe (key, created_ms, copies) VALUES ($1, $2, '')"
                                " ON CONFLICT (key) DO NOTHING RETURNING 1"};
const Statement kDedupeCopies{"dedupe_copies", "SELECT copies FROM dedupe WHERE key = $1"};
const Statement kSetDedupeCopies{"set_dedupe_copies",
                                 "UPDATE dedupe SET copies = $2 WHERE key = $1"};
// Locks the recipients in address order (so two appends cannot deadlock on them) and reads their
// counters; appends to one device therefore run one after another and seqs stay dense.
const Statement kLockRecipients{"lock_recipients",
                                "SELECT d.account_id, d.device_id, d.next_seq FROM devices d"
                                " JOIN unnest($1::text[], $2::bigint[]) AS r(a, dev)"
                                " ON d.account_id = decode(r.a, 'hex') AND d.device_id = r.dev"
                                " ORDER BY d.account_id, d.device_id FOR UPDATE OF d"};
const Statement kQueueLengths{"queue_lengths",
                              "SELECT decode(r.a, 'hex'), r.dev, (SELECT count(*) FROM messages m"
                              " WHERE m.account_id = decode(r.a, 'hex') AND m.device_id = r.dev)"
                              " FROM unnest($1::text[], $2::bigint[]) AS r(a, dev)"};
const Statement kInsertSharedPayload{
    "insert_shared_payload",
    "INSERT INTO shared_payloads (payload, refs) VALUES ($1, $2) RETURNING id"};
const Statement kInsertEntries{
    "insert_entries",
    "INSERT INTO messages (account_id, device_id, seq, sender_account, sender_device,"
    " timestamp_ms, payload, shared_id)"
    " SELECT decode(a, 'hex'), dev, seq, decode(sa, 'hex'), sd, ts, decode(p, 'hex'), sh"
    " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[],"
    " $6::bigint[], $7::text[], $8::bigint[]) AS e(a, dev, seq, sa, sd, ts, p, sh)"};
const Statement kAdvanceSeqs{
    "advance_seqs",
    "UPDATE devices d SET next_seq = u.next FROM unnest($1::text[], $2::bigint[], $3::bigint[])"
    " AS u(a, dev, next) WHERE d.account_id = decode(u.a, 'hex') AND d.device_id = u.dev"};

}  // namespace

PreparedAppend::PreparedAppend(const AppendRequest& r) : request(r) {
  for (const NewEnvelope& envelope : request.envelopes) ++added[envelope.recipient];
  ArrayLiteral accounts;
  ArrayLiteral devices;
  for (const auto& entry : added) {
    accounts.add_hex(entry.first.account_id);
    devices.add_int(entry.first.device_id);
  }
  recipient_accounts = accounts.str();
  recipient_devices = devices.str();
  if (request.shared_payload) {
    for (const NewEnvelope& envelope : request.envelopes) references += envelope.payload.empty();
  }
}

void lock_recipients(Session& db, const std::vector<const PreparedAppend*>& appends) {
  std::map<DeviceAddress, bool> all;
  for (const PreparedAppend* append : appends) {
    for (const auto& entry : append->added) all[entry.first] = true;
  }
  ArrayLiteral accounts;
  ArrayLiteral devices;
  for (const auto& entry : all) {
    accounts.add_hex(entry.first.account_id);
    devices.add_int(entry.first.device_id);
  }
  db.exec(kLockRecipients, accounts.str(), devices.str());
}

Status write_append(Session& db, const PreparedAppend& append, AppendResult& result) {
  result = AppendResult{};
  // Recipients first, then the dedupe key: every transaction takes device locks before dedupe
  // keys, so concurrent retries of one message queue instead of deadlocking.
  std::map<DeviceAddress, std::uint64_t> next_seq;
  for (const pqxx::row& row :
       db.exec(kLockRecipients, append.recipient_accounts, append.recipient_devices)) {
    next_seq[{account_id_of(row[0]), row[1].as<DeviceId>()}] = row[2].as<std::uint64_t>();
  }
  if (!append.request.dedupe_key.empty() &&
      db.exec(kClaimDedupeKey, bin(append.request.dedupe_key), append.request.now_ms).empty()) {
    pqxx::result original = db.exec(kDedupeCopies, bin(append.request.dedupe_key));
    if (original.empty()) {
      // Purged between the two statements: rare enough that the caller may simply retry.
      return Status::error(ErrorCode::kUnavailable, "dedupe record changed; retry");
    }
    result.copies = decode_copies(bytes_of(original[0][0]));
    result.duplicate = true;
    return Status{};
  }
  // The map is in address order, so the lowest unknown device is named.
  for (const auto& entry : append.added) {
    if (!next_seq.contains(entry.first)) return unknown_device_error(entry.first);
  }
  if (append.request.max_queue_per_device != 0) {
    std::map<DeviceAddress, std::uint64_t> queued;
    for (const pqxx::row& row :
         db.exec(kQueueLengths, append.recipient_accounts, append.recipient_devices)) {
      queued[{account_id_of(row[0]), row[1].as<DeviceId>()}] = row[2].as<std::uint64_t>();
    }
    for (const auto& [address, count] : append.added) {
      if (queued[address] + count > append.request.max_queue_per_device) {
        return queue_full_error(address, append.request.max_queue_per_device);
      }
    }
  }
  std::optional<std::int64_t> shared_id;
  if (append.references > 0) {
    shared_id = db.exec(kInsertSharedPayload, bin(*append.request.shared_payload),
                        to_bigint(append.references))
                    .at(0)[0]
                    .as<std::int64_t>();
  }
  ArrayLiteral accounts, devices, seqs, sender_accounts, sender_devices, timestamps, payloads,
      shared;
  for (const NewEnvelope& envelope : append.request.envelopes) {
    const std::uint64_t seq = next_seq[envelope.recipient]++;
    result.copies.push_back({envelope.recipient, seq});
    accounts.add_hex(envelope.recipient.account_id);
    devices.add_int(envelope.recipient.device_id);
    seqs.add_int(to_bigint(seq));
    if (envelope.sender) {
      sender_accounts.add_hex(envelope.sender->account_id);
      sender_devices.add_int(envelope.sender->device_id);
    } else {
      sender_accounts.add_null();
      sender_devices.add_null();
    }
    timestamps.add_int(envelope.timestamp_ms);
    if (shared_id && envelope.payload.empty()) {
      payloads.add_null();
      shared.add_int(*shared_id);
    } else {
      payloads.add_hex(envelope.payload);
      shared.add_null();
    }
  }
  db.exec(kInsertEntries, accounts.str(), devices.str(), seqs.str(), sender_accounts.str(),
          sender_devices.str(), timestamps.str(), payloads.str(), shared.str());
  ArrayLiteral nexts;
  for (const auto& entry : append.added) nexts.add_int(to_bigint(next_seq[entry.first]));
  db.exec(kAdvanceSeqs, append.recipient_accounts, append.recipient_devices, nexts.str());
  if (!append.request.dedupe_key.empty()) {
    db.exec(kSetDedupeCopies, bin(append.request.dedupe_key), bin(encode_copies(result.copies)));
  }
  return Status{};
}

}  // namespace pg

Result<AppendResult> PgStore::append_messages(const AppendRequest& request) {
  PARLEY_RETURN_IF_ERROR(validate_append(request));
  const pg::PreparedAppend append(request);
  PARLEY_ASSIGN_OR_RETURN(AppendResult result, impl_->appends.submit(append));
  if (result.duplicate) {
    ++impl_->duplicate_appends;
  } else {
    ++impl_->mutations;
    impl_->envelopes_written += request.envelopes.size();
    if (append.references > 0) ++impl_->shared_payloads_written;
  }
  return result;
}

}  // namespace parley::store
