-- SPDX-License-Identifier: AGPL-3.0-or-later
-- Schema version 2: attachments (parley::store::BlobStore) in PostgreSQL, so every node sees
-- every blob: one row per blob, its bytes in the chunks the owner uploaded, and the ids of purged
-- blobs (answered "expired" instead of "not found" for a while, on every node and across
-- restarts).

CREATE TABLE blobs (
  id         bytea  PRIMARY KEY,
  owner      bytea  NOT NULL,
  size       bigint NOT NULL CHECK (size > 0),
  received   bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
  created_ms bigint NOT NULL,
  expires_ms bigint NOT NULL
);
CREATE INDEX blobs_by_owner ON blobs (owner);
CREATE INDEX blobs_by_expiry ON blobs (expires_ms);

-- start: the chunk's offset in the blob (chunks are contiguous: each starts at the previous
-- received count).
CREATE TABLE blob_chunks (
  blob_id bytea  NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
  start   bigint NOT NULL,
  data    bytea  NOT NULL,
  PRIMARY KEY (blob_id, start)
);

CREATE TABLE blob_tombstones (
  id         bytea  PRIMARY KEY,
  expires_ms bigint NOT NULL
);
CREATE INDEX blob_tombstones_by_expiry ON blob_tombstones (expires_ms);
