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

// Version 3: groups (docs/client.md "Groups"). The admin-signed state we accepted per group (and
// our own last change, re-applied if a concurrent one wins); our sending key per group and the
// devices that hold it; the keys other devices sent us, by the distribution id their messages
// name. Group conversations live in conversations/messages with the group id as the peer and
// the author in messages.sender. Group messages wait in the outbox as kind 1 (kind 2: a pairwise
// sender-key distribution).
constexpr const char* kGroups = R"sql(
CREATE TABLE chat_groups (
  group_id BLOB PRIMARY KEY,
  version INTEGER NOT NULL,
  state BLOB NOT NULL,
  previous_state BLOB NOT NULL,
  name TEXT NOT NULL,
  is_member INTEGER NOT NULL,
  authored_parent BLOB NOT NULL,
  authored BLOB NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE group_own_keys (
  group_id BLOB PRIMARY KEY,
  distribution_id BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  messages INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE group_key_recipients (
  group_id BLOB NOT NULL,
  account_id BLOB NOT NULL,
  device_id INTEGER NOT NULL,
  device_key BLOB NOT NULL,
  PRIMARY KEY (group_id, account_id, device_id)
) WITHOUT ROWID;

CREATE TABLE group_received_keys (
  sender_account BLOB NOT NULL,
  sender_device INTEGER NOT NULL,
  distribution_id BLOB NOT NULL,
  group_id BLOB NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (sender_account, sender_device, distribution_id)
) WITHOUT ROWID;
CREATE INDEX group_received_keys_by_group ON group_received_keys (group_id);

ALTER TABLE messages ADD COLUMN sender BLOB NOT NULL DEFAULT x'';
ALTER TABLE conversations ADD COLUMN is_group INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 4: attachments. A file attached to a message, sent or received, keyed like the
// message; its pointer (the AttachmentPointer with the file's key) is encrypted at rest like
// everything here. Uploads waiting to finish keep the server's id as soon as it exists, so a
// restart resumes the same blob instead of starting over.
constexpr const char* kAttachments = R"sql(
CREATE TABLE attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  peer BLOB NOT NULL,
  direction INTEGER NOT NULL,
  client_message_id BLOB NOT NULL,
  pointer BLOB NOT NULL,
  file_name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  local_path TEXT NOT NULL,
  state INTEGER NOT NULL,
  error TEXT NOT NULL,
  download INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE (peer, direction, client_message_id)
);
CREATE INDEX attachments_to_download ON attachments (id) WHERE download = 1 AND state = 0;

CREATE TABLE attachment_uploads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  peer BLOB NOT NULL,
  is_group INTEGER NOT NULL,
  client_message_id BLOB NOT NULL UNIQUE,
  content BLOB NOT NULL,
  ciphertext_file TEXT NOT NULL,
  ciphertext_size INTEGER NOT NULL,
  attachment_id BLOB NOT NULL,
  max_chunk_bytes INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
)sql";

// Version 5: named text settings (how this device reaches the server: relays, proxy, extra
// endpoints, DNS over HTTPS, and the transport memory of what worked on which network).
constexpr const char* kSettings = R"sql(
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {1, kInitialSchema}, {2, kDisappearingMessages}, {3, kGroups}, {4, kAttachments},
    {5, kSettings},
};

static_assert(std::size(kMigrations) == LocalStore::kSchemaVersion,
              "every schema version needs its migration");

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

}  // namespace parley::client
