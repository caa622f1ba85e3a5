// SPDX-License-Identifier: AGPL-3.0-or-later
#include "local_store_schema.h"

#include "parley/client/local_store.h"

namespace parley::client {
namespace {

// SQLCipher 3.4.1 is SQLite 3.15.2: no UPSERT, RETURNING or window functions. A shipped migration
// never changes; a schema change is a new entry at the end.

// Version 1: the initial schema.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE account (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  account_id BLOB NOT NULL,
  device_id INTEGER NOT NULL,
  identity_key BLOB NOT NULL,
  device_private_key BLOB NOT NULL,
  device_public_key BLOB NOT NULL,
  registration_id INTEGER NOT NULL,
  username TEXT NOT NULL,
  server TEXT NOT NULL,
  server_pin TEXT NOT NULL,
  server_ca_file TEXT NOT NULL,
  next_prekey_id INTEGER NOT NULL,
  next_signed_prekey_id INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);

CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE prekeys (
  id INTEGER PRIMARY KEY,
  record BLOB NOT NULL
);

CREATE TABLE signed_prekeys (
  id INTEGER PRIMARY KEY,
  record BLOB NOT NULL
);

CREATE TABLE sessions (
  name TEXT NOT NULL,
  device_id INTEGER NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (name, device_id)
) WITHOUT ROWID;

CREATE TABLE identities (
  name TEXT NOT NULL,
  device_id INTEGER NOT NULL,
  identity_key BLOB NOT NULL,
  PRIMARY KEY (name, device_id)
) WITHOUT ROWID;

CREATE TABLE sender_keys (
  group_id TEXT NOT NULL,
  sender_name TEXT NOT NULL,
  sender_device INTEGER NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (group_id, sender_name, sender_device)
) WITHOUT ROWID;

CREATE TABLE contacts (
  account_id BLOB PRIMARY KEY,
  username TEXT NOT NULL,
  identity_key BLOB NOT NULL,
  verified INTEGER NOT NULL,
  identity_changed INTEGER NOT NULL,
  signed_device_list BLOB NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX contacts_by_username ON contacts (username);

CREATE TABLE conversations (
  peer BLOB PRIMARY KEY,
  last_activity_ms INTEGER NOT NULL,
  unread INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  peer BLOB NOT NULL,
  direction INTEGER NOT NULL,
  sender_device INTEGER NOT NULL,
  client_message_id BLOB NOT NULL,
  kind INTEGER NOT NULL,
  body TEXT NOT NULL,
  sent_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  status INTEGER NOT NULL,
  UNIQUE (peer, direction, client_message_id)
);
CREATE INDEX messages_by_peer ON messages (peer, id);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient BLOB NOT NULL,
  client_message_id BLOB NOT NULL,
  content BLOB NOT NULL,
  request BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (recipient, client_message_id)
);
)sql";

// Version 2: disappearing messages. A conversation's timer, and each message's deadline
// (0: never), indexed only where set so the periodic sweep stays cheap.
constexpr const char* kDisappearingMessages = R"sql(
ALTER TABLE conversations ADD COLUMN disappearing_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN expires_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_expiry ON messages (expires_at_ms) WHERE expires_at_ms > 0;
)sql";

constexpr Migration kMigrations[] = {
    {1, kInitialSchema},
    {2, kDisappearingMessages},
};

static_assert(std::size(kMigrations) == LocalStore::kSchemaVersion,
              "every schema version needs its migration");

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

}  // namespace parley::client
