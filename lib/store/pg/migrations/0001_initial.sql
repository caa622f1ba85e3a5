-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Parley PostgreSQL store, schema version 1: everything parley::store::Store keeps.
-- Applied by PgStore::open in one transaction and recorded in schema_migrations. Never edit a
-- released migration: add the next numbered file instead.

CREATE TABLE accounts (
  id                 bytea  PRIMARY KEY,
  identity_key       bytea  NOT NULL UNIQUE,
  username           text   UNIQUE,
  created_ms         bigint NOT NULL,
  signed_device_list bytea  NOT NULL
);

-- next_seq lives with the device: removing the device drops its counter (the Store contract), and
-- every append locks the recipient rows, which serializes sequence numbers per device.
CREATE TABLE devices (
  account_id      bytea  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  device_id       bigint NOT NULL,
  public_key      bytea  NOT NULL,
  registration_id bigint NOT NULL,
  created_ms      bigint NOT NULL,
  last_seen_ms    bigint NOT NULL,
  next_seq        bigint NOT NULL DEFAULT 1,
  PRIMARY KEY (account_id, device_id)
);

CREATE TABLE signed_prekeys (
  account_id bytea  NOT NULL,
  device_id  bigint NOT NULL,
  key_id     bigint NOT NULL,
  public_key bytea  NOT NULL,
  signature  bytea  NOT NULL,
  PRIMARY KEY (account_id, device_id),
  FOREIGN KEY (account_id, device_id) REFERENCES devices ON DELETE CASCADE
);

CREATE TABLE one_time_prekeys (
  account_id bytea  NOT NULL,
  device_id  bigint NOT NULL,
  key_id     bigint NOT NULL,
  public_key bytea  NOT NULL,
  PRIMARY KEY (account_id, device_id, key_id),
  FOREIGN KEY (account_id, device_id) REFERENCES devices ON DELETE CASCADE
);

-- One stored copy of a group message; refs counts the mailbox entries pointing at it. The row is
-- locked by every UPDATE of refs, so concurrent acks keep the count exact.
CREATE TABLE shared_payloads (
  id      bigserial PRIMARY KEY,
  payload bytea     NOT NULL,
  refs    bigint    NOT NULL CHECK (refs >= 0)
);

-- payload is NULL exactly when the entry refers to a shared payload. The store deletes entries
-- itself (releasing their shared payloads) before deleting a device; the cascade is a backstop.
CREATE TABLE messages (
  account_id     bytea  NOT NULL,
  device_id      bigint NOT NULL,
  seq            bigint NOT NULL,
  sender_account bytea,
  sender_device  bigint,
  timestamp_ms   bigint NOT NULL,
  payload        bytea,
  shared_id      bigint REFERENCES shared_payloads (id),
  PRIMARY KEY (account_id, device_id, seq),
  FOREIGN KEY (account_id, device_id) REFERENCES devices ON DELETE CASCADE,
  CHECK ((payload IS NULL) <> (shared_id IS NULL))
);
CREATE INDEX messages_by_timestamp ON messages (timestamp_ms);
CREATE INDEX messages_by_shared_payload ON messages (shared_id) WHERE shared_id IS NOT NULL;

-- copies: the original AppendResult, (account id 16 bytes | device 4 | seq 8) per copy.
CREATE TABLE dedupe (
  key        bytea  PRIMARY KEY,
  created_ms bigint NOT NULL,
  copies     bytea  NOT NULL
);
CREATE INDEX dedupe_by_created ON dedupe (created_ms);
