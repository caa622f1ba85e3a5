// SPDX-License-Identifier: AGPL-3.0-or-later
// Attachments and pending uploads in the local database (schema version 4).
#include <utility>

#include "local_store_impl.h"

namespace parley::client {
namespace {

constexpr const char* kAttachmentColumns =
    "id, peer, direction, client_message_id, pointer, file_name, content_type, size, local_path, "
    "state, error, download, attempts, next_attempt_ms, created_ms";

constexpr const char* kUploadColumns =
    "id, peer, is_group, client_message_id, content, ciphertext_file, ciphertext_size, "
    "attachment_id, max_chunk_bytes, expires_ms, attempts, next_attempt_ms, created_ms";

Result<AttachmentRecord> read_attachment(const sqlite::Statement& stmt) {
  AttachmentRecord record;
  record.id = stmt.int_column(0);
  record.peer = stmt.blob_column(1);
  std::int64_t direction = stmt.int_column(2);
  if (direction < 0 || direction > static_cast<std::int64_t>(MessageDirection::kOutgoing)) {
    return Status::error(ErrorCode::kStorageCorrupt, "stored attachment direction is unknown");
  }
  record.direction = static_cast<MessageDirection>(direction);
  record.client_message_id = stmt.blob_column(3);
  record.pointer = stmt.secret_column(4);
  record.file_name = stmt.text_column(5);
  record.content_type = stmt.text_column(6);
  record.size = static_cast<std::uint64_t>(stmt.int_column(7));
  record.local_path = stmt.text_column(8);
  std::int64_t state = stmt.int_column(9);
  if (state < 0 || state > static_cast<std::int64_t>(AttachmentState::kFailed)) {
    return Status::error(ErrorCode::kStorageCorrupt, "stored attachment state is unknown");
  }
  record.state = static_cast<AttachmentState>(state);
  record.error = stmt.text_column(10);
  record.download = stmt.int_column(11) != 0;
  record.attempts = static_cast<std::uint32_t>(stmt.int_column(12));
  record.next_attempt_ms = stmt.int_column(13);
  record.created_ms = stmt.int_column(14);
  return record;
}

AttachmentUpload read_upload(const sqlite::Statement& stmt) {
  AttachmentUpload upload;
  upload.id = stmt.int_column(0);
  upload.peer = stmt.blob_column(1);
  upload.is_group = stmt.int_column(2) != 0;
  upload.client_message_id = stmt.blob_column(3);
  upload.content = stmt.secret_column(4);
  upload.ciphertext_file = stmt.text_column(5);
  upload.ciphertext_size = static_cast<std::uint64_t>(stmt.int_column(6));
  upload.attachment_id = stmt.blob_column(7);
  upload.max_chunk_bytes = static_cast<std::uint32_t>(stmt.int_column(8));
  upload.expires_ms = stmt.int_column(9);
  upload.attempts = static_cast<std::uint32_t>(stmt.int_column(10));
  upload.next_attempt_ms = stmt.int_column(11);
  upload.created_ms = stmt.int_column(12);
  return upload;
}

}  // namespace

Status SqliteLocalStore::add_attachment(AttachmentRecord& record) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT INTO attachments (peer, direction, client_message_id, pointer, "
                  "file_name, content_type, size, local_path, state, error, download, attempts, "
                  "next_attempt_ms, created_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"));
  stmt.bind(1, record.peer)
      .bind(2, static_cast<std::int64_t>(record.direction))
      .bind(3, record.client_message_id)
      .bind(4, record.pointer)
      .bind(5, record.file_name)
      .bind(6, record.content_type)
      .bind(7, static_cast<std::int64_t>(record.size))
      .bind(8, record.local_path)
      .bind(9, static_cast<std::int64_t>(record.state))
      .bind(10, record.error)
      .bind(11, std::int64_t{record.download})
      .bind(12, std::int64_t{record.attempts})
      .bind(13, record.next_attempt_ms)
      .bind(14, record.created_ms);
  Status status = stmt.run();
  if (status.code() == ErrorCode::kAlreadyExists) {
    return Status::error(ErrorCode::kAlreadyExists, "this message already has an attachment");
  }
  PARLEY_RETURN_IF_ERROR(status);
  record.id = db_.last_insert_rowid();
  return Status();
}

Result<std::optional<AttachmentRecord>> SqliteLocalStore::attachment(ByteView peer,
                                                                     MessageDirection direction,
                                                                     ByteView client_message_id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kAttachmentColumns +
                                      " FROM attachments WHERE peer = ?1 AND direction = ?2 "
                                      "AND client_message_id = ?3"));
  stmt.bind(1, peer).bind(2, static_cast<std::int64_t>(direction)).bind(3, client_message_id);
  PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<AttachmentRecord>();
  PARLEY_ASSIGN_OR_RETURN(AttachmentRecord record, read_attachment(stmt));
  return std::optional<AttachmentRecord>(std::move(record));
}

Status SqliteLocalStore::update_attachment(const AttachmentRecord& record) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("UPDATE attachments SET local_path = ?2, state = ?3, error = ?4, attempts = ?5, "
                  "next_attempt_ms = ?6 WHERE id = ?1"));
  stmt.bind(1, record.id)
      .bind(2, record.local_path)
      .bind(3, static_cast<std::int64_t>(record.state))
      .bind(4, record.error)
      .bind(5, std::int64_t{record.attempts})
      .bind(6, record.next_attempt_ms);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  if (db_.changes() == 0) return Status::error(ErrorCode::kNotFound, "no such attachment");
  return Status();
}

Result<std::vector<AttachmentRecord>> SqliteLocalStore::pending_downloads() {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kAttachmentColumns +
                                      " FROM attachments WHERE download = 1 AND state = 0 "
                                      "ORDER BY id"));
  std::vector<AttachmentRecord> records;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    PARLEY_ASSIGN_OR_RETURN(AttachmentRecord record, read_attachment(stmt));
    records.push_back(std::move(record));
  }
  return records;
}

Status SqliteLocalStore::add_upload(AttachmentUpload& upload) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("INSERT INTO attachment_uploads (peer, is_group, client_message_id, content, "
                  "ciphertext_file, ciphertext_size, attachment_id, max_chunk_bytes, expires_ms, "
                  "attempts, next_attempt_ms, created_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  stmt.bind(1, upload.peer)
      .bind(2, std::int64_t{upload.is_group})
      .bind(3, upload.client_message_id)
      .bind(4, upload.content)
      .bind(5, upload.ciphertext_file)
      .bind(6, static_cast<std::int64_t>(upload.ciphertext_size))
      .bind(7, upload.attachment_id)
      .bind(8, std::int64_t{upload.max_chunk_bytes})
      .bind(9, upload.expires_ms)
      .bind(10, std::int64_t{upload.attempts})
      .bind(11, upload.next_attempt_ms)
      .bind(12, upload.created_ms);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  upload.id = db_.last_insert_rowid();
  return Status();
}

Result<std::vector<AttachmentUpload>> SqliteLocalStore::uploads() {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare(std::string("SELECT ") + kUploadColumns +
                                      " FROM attachment_uploads ORDER BY id"));
  std::vector<AttachmentUpload> uploads;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    uploads.push_back(read_upload(stmt));
  }
  return uploads;
}

Status SqliteLocalStore::update_upload(const AttachmentUpload& upload) {
  PARLEY_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      db_.prepare("UPDATE attachment_uploads SET content = ?2, attachment_id = ?3, "
                  "max_chunk_bytes = ?4, expires_ms = ?5, attempts = ?6, next_attempt_ms = ?7 "
                  "WHERE id = ?1"));
  stmt.bind(1, upload.id)
      .bind(2, upload.content)
      .bind(3, upload.attachment_id)
      .bind(4, std::int64_t{upload.max_chunk_bytes})
      .bind(5, upload.expires_ms)
      .bind(6, std::int64_t{upload.attempts})
      .bind(7, upload.next_attempt_ms);
  PARLEY_RETURN_IF_ERROR(stmt.run());
  if (db_.changes() == 0) return Status::error(ErrorCode::kNotFound, "no such upload");
  return Status();
}

Status SqliteLocalStore::remove_upload(std::int64_t id) {
  PARLEY_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                          db_.prepare("DELETE FROM attachment_uploads WHERE id = ?1"));
  stmt.bind(1, id);
  return stmt.run();
}

}  // namespace parley::client
