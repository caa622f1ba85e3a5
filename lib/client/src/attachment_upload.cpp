// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Sending a file: encrypt it once into the home (so the source may change or go away), record
// the outgoing message and the upload in one transaction, then upload the ciphertext in small
// chunks. The server's id is saved before the first chunk, and every (re)start asks the server
// how much it holds, so an upload resumes after any disconnect or restart from the last
// acknowledged byte — never from zero. Only when the server holds the whole blob is the message
// that carries its key queued (to a contact with a transcript to our other devices, or to a
// group); then the encrypted copy is deleted.

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <system_error>

#include "attachment_files.h"
#include "attachment_transfer.h"
#include "parley/crypto/random.h"

namespace parley::client {

namespace attachment {

Status server_status(const wire::Response& response) {
  Status status = response_status(response);
  if (is_storage_error(status.code())) {
    return Status::error(ErrorCode::kResourceExhausted,
                         "the server could not store or read the file; retry later");
  }
  return status;
}

Result<wire::Response> call_server(Client::Impl& impl, wire::Request request) {
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, impl.call_raw(std::move(request)));
  PARLEY_RETURN_IF_ERROR(server_status(response));
  return response;
}

bool gives_up(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTooLarge:
    case ErrorCode::kQuotaExceeded:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kMalformedInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kExpired:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUntrustedIdentity:
    case ErrorCode::kBadMac:
    case ErrorCode::kDecryptFailed:
      return true;
    default:
      return false;
  }
}

std::int64_t backoff_ms(std::uint32_t attempts) {
  return std::min<std::int64_t>(600'000, 1000LL << std::min(attempts, 10u));
}

std::string file_name_of(const content::AttachmentPointer& pointer) {
  return sanitize_file_name(pointer.file_name());
}

}  // namespace attachment

namespace {

using attachment::kDefaultChunkBytes;

// A content type for the receiver's convenience, from the extension; empty when unknown.
std::string guess_content_type(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {".jpg", "image/jpeg"},       {".jpeg", "image/jpeg"},     {".png", "image/png"},
      {".gif", "image/gif"},        {".webp", "image/webp"},     {".pdf", "application/pdf"},
      {".txt", "text/plain"},       {".mp4", "video/mp4"},       {".mp3", "audio/mpeg"},
      {".ogg", "audio/ogg"},        {".zip", "application/zip"}, {".json", "application/json"},
      {".html", "text/html"},       {".csv", "text/csv"},        {".svg", "image/svg+xml"},
      {".m4a", "audio/mp4"},        {".mov", "video/quicktime"}, {".gz", "application/gzip"},
      {".tar", "application/x-tar"}};
  for (const auto& [ending, type] : kTypes) {
    if (extension == ending) return type;
  }
  return {};
}

// An outgoing group message in history, written as Client::queue_group_text() writes one.
Status record_outgoing_group_text(Client::Impl& impl, ByteView group_id,
                                  content::Content& content) {
  std::int64_t now = impl.now_ms();
  content.set_sent_ms(now);
  MessageRecord message;
  message.peer = Bytes(group_id.begin(), group_id.end());
  message.direction = MessageDirection::kOutgoing;
  message.sender_device = impl.account->device_id;
  message.client_message_id = to_bytes(content.client_message_id());
  message.kind = MessageKind::kText;
  message.body = content.text().body();
  message.sent_ms = now;
  message.status = MessageStatus::kPending;
  message.sender = impl.account->account_id;
  PARLEY_RETURN_IF_ERROR(impl.store->insert_message(message));
  PARLEY_ASSIGN_OR_RETURN(auto conversation, impl.store->conversation(group_id));
  Conversation updated =
      conversation.value_or(Conversation{Bytes(group_id.begin(), group_id.end()), 0, 0, 0, true});
  updated.is_group = true;
  updated.last_activity_ms = now;
  return impl.store->save_conversation(updated);
}

std::filesystem::path attachments_dir(const Client::Impl& impl) {
  return impl.options.home / "attachments";
}

// How an upload attempt ended.
enum class Outcome { kDone, kRestart };

struct Uploader {
  Client::Impl& impl;
  AttachmentUpload& upload;
  content::Content content;
  TransferProgress progress;
  std::uint64_t moved = 0;  // bytes the server acknowledged during this run

  Status save() { return impl.store->update_upload(upload); }

  // A fresh blob on the server; its id is saved before any chunk goes up.
  Status create() {
    wire::Request request;
    request.mutable_create_attachment()->set_size(upload.ciphertext_size);
    PARLEY_ASSIGN_OR_RETURN(wire::Response response,
                            attachment::call_server(impl, std::move(request)));
    const auto& created = response.create_attachment();
    if (created.attachment_id().size() != proto::kAttachmentIdSize) {
      return Status::error(ErrorCode::kProtocolViolation, "the server sent an invalid file id");
    }
    upload.attachment_id = to_bytes(created.attachment_id());
    upload.max_chunk_bytes = created.max_chunk_bytes();
    upload.expires_ms = created.expires_ms();
    return save();
  }

  void forget_blob() {
    upload.attachment_id.clear();
    upload.expires_ms = 0;
  }

  // What the server holds of our blob; nullopt when it is gone (expired or unknown).
  Result<std::optional<std::uint64_t>> server_received() {
    wire::Request request;
    request.mutable_get_attachment()->set_attachment_id(upload.attachment_id.data(),
                                                        upload.attachment_id.size());
    auto response = attachment::call_server(impl, std::move(request));
    if (!response.ok()) {
      ErrorCode code = response.status().code();
      if (code == ErrorCode::kExpired || code == ErrorCode::kNotFound) {
        return std::optional<std::uint64_t>();
      }
      return response.status();
    }
    const auto& held = response->get_attachment();
    if (held.size() != upload.ciphertext_size || held.received() > held.size()) {
      return std::optional<std::uint64_t>();  // not the blob we meant: start a new one
    }
    if (held.expires_ms() != 0) upload.expires_ms = held.expires_ms();
    return std::optional<std::uint64_t>(held.received());
  }

  Result<Outcome> attempt() {
    std::uint64_t received = 0;
    if (upload.attachment_id.empty()) {
      PARLEY_RETURN_IF_ERROR(create());
    } else {
      PARLEY_ASSIGN_OR_RETURN(auto held, server_received());
      if (!held) return Outcome::kRestart;
      received = *held;
    }
    std::uint64_t chunk = kDefaultChunkBytes;
    if (upload.max_chunk_bytes > 0) chunk = std::min<std::uint64_t>(chunk, upload.max_chunk_bytes);

    PARLEY_ASSIGN_OR_RETURN(attachment::File file,
                            attachment::File::open_read(upload.ciphertext_file));
    PARLEY_ASSIGN_OR_RETURN(std::uint64_t on_disk, file.size());
    if (on_disk != upload.ciphertext_size) {
      return Status::error(ErrorCode::kNotFound,
                           "the encrypted copy of the file in the home was changed or cut short");
    }
    progress.done_bytes = received;
    impl.report_progress(progress);
    Bytes data;
    std::uint32_t chunks = 0;
    int refusals = 0;
    bool complete = received == upload.ciphertext_size;
    while (!complete) {
      if (impl.transfers_stopped()) {
        return Status::error(ErrorCode::kCancelled, "the upload was paused");
      }
      std::uint64_t size = std::min<std::uint64_t>(chunk, upload.ciphertext_size - received);
      data.resize(static_cast<std::size_t>(size));
      PARLEY_RETURN_IF_ERROR(file.seek(received));
      PARLEY_ASSIGN_OR_RETURN(std::size_t got, file.read(data));
      if (got != size) {
        return Status::error(ErrorCode::kNotFound,
                             "the encrypted copy of the file in the home was cut short");
      }
      wire::Request request;
      auto* body = request.mutable_upload_attachment_chunk();
      body->set_attachment_id(upload.attachment_id.data(), upload.attachment_id.size());
      body->set_offset(received);
      body->set_data(data.data(), data.size());
      PARLEY_ASSIGN_OR_RETURN(wire::Response response, impl.call_raw(std::move(request)));
      Status status = attachment::server_status(response);
      if (status.code() == ErrorCode::kFailedPrecondition &&
          response.has_upload_attachment_chunk() && ++refusals <= 3) {
        // The server holds another amount than we thought (an ack lost with a connection):
        // continue from there.
        std::uint64_t held = response.upload_attachment_chunk().received();
        if (held > upload.ciphertext_size) return Outcome::kRestart;
        received = held;
        complete = response.upload_attachment_chunk().complete();
        continue;
      }
      if (status.code() == ErrorCode::kExpired || status.code() == ErrorCode::kNotFound) {
        return Outcome::kRestart;
      }
      PARLEY_RETURN_IF_ERROR(status);
      refusals = 0;
      const auto& ack = response.upload_attachment_chunk();
      if (ack.received() <= received || ack.received() > upload.ciphertext_size) {
        return Status::error(ErrorCode::kProtocolViolation,
                             "the server acknowledged an impossible amount of the file");
      }
      moved += ack.received() - received;
      received = ack.received();
      complete = ack.complete() || received == upload.ciphertext_size;
      if (++chunks % attachment::kProgressEveryChunks == 0) {
        progress.done_bytes = received;
        impl.report_progress(progress);
      }
    }
    progress.done_bytes = upload.ciphertext_size;
    impl.report_progress(progress);
    return Outcome::kDone;
  }

  // The whole blob is on the server: queue the message that carries its id and key.
  Status finish() {
    content.mutable_text()->mutable_attachment()->set_attachment_id(upload.attachment_id.data(),
                                                                    upload.attachment_id.size());
    PARLEY_ASSIGN_OR_RETURN(auto tx, impl.store->begin());
    if (upload.is_group) {
      PARLEY_RETURN_IF_ERROR(impl.queue_group_content(upload.peer, content));
    } else {
      PARLEY_RETURN_IF_ERROR(impl.queue_direct_text(upload.peer, content));
    }
    PARLEY_ASSIGN_OR_RETURN(
        auto record,
        impl.store->attachment(upload.peer, MessageDirection::kOutgoing, upload.client_message_id));
    if (record) {
      record->state = AttachmentState::kDone;
      PARLEY_RETURN_IF_ERROR(impl.store->update_attachment(*record));
    }
    PARLEY_RETURN_IF_ERROR(impl.store->remove_upload(upload.id));
    PARLEY_RETURN_IF_ERROR(tx.commit());
    attachment::remove_quietly(upload.ciphertext_file);
    return Status();
  }

  Status run() {
    if (!content.ParseFromArray(upload.content.data(), static_cast<int>(upload.content.size())) ||
        !content.has_text() || !content.text().has_attachment()) {
      return Status::error(ErrorCode::kMalformedInput, "a stored upload does not parse");
    }
    progress.client_message_id_hex = hex_id(upload.client_message_id);
    progress.file_name = attachment::file_name_of(content.text().attachment());
    progress.upload = true;
    progress.total_bytes = upload.ciphertext_size;
    // An upload whose blob expired (or vanished) on the server starts once more with a new id.
    for (int round = 0; round < 2; ++round) {
      if (upload.attachment_id.empty() ||
          (upload.expires_ms != 0 && upload.expires_ms <= impl.now_ms())) {
        forget_blob();
      }
      PARLEY_ASSIGN_OR_RETURN(Outcome outcome, attempt());
      if (outcome == Outcome::kDone) return finish();
      forget_blob();
      PARLEY_RETURN_IF_ERROR(save());
    }
    return Status::error(ErrorCode::kExpired,
                         "the server dropped the file twice while it was being uploaded");
  }
};

}  // namespace

void Client::Impl::report_progress(const TransferProgress& progress) const {
  if (on_progress) on_progress(progress);
}

Result<std::string> Client::Impl::queue_attachment(ByteView peer, bool is_group,
                                                   const std::filesystem::path& path,
                                                   const std::string& caption) {
  if (caption.size() > kMaxTextBytes) {
    return Status::error(ErrorCode::kTooLarge, "a caption holds at most 32 KiB of text");
  }
  std::error_code error;
  auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::is_regular_file(status)) {
    return Status::error(ErrorCode::kInvalidArgument,
                         path.string() + " is not a file that can be read");
  }
  auto size = std::filesystem::file_size(path, error);
  if (error) {
    return Status::error(ErrorCode::kInvalidArgument, "cannot read the size of " + path.string());
  }
  if (size > attachment::kMaxPlaintextBytes) {
    return Status::error(ErrorCode::kTooLarge,
                         "a file can have at most 100 MiB; this one is larger");
  }
  std::filesystem::path dir = attachments_dir(*this);
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Status::error(ErrorCode::kStorageIo, "cannot create " + dir.string());
  }
  ::chmod(dir.c_str(), 0700);

  Bytes id = crypto::random_bytes(kClientMessageIdSize);
  std::filesystem::path sealed = dir / (hex_id(id) + ".enc");
  auto encrypted = attachment::encrypt_file(path, sealed, attachment::kMaxPlaintextBytes);
  if (!encrypted.ok()) {
    if (encrypted.status().code() == ErrorCode::kTooLarge) {
      return Status::error(ErrorCode::kTooLarge,
                           "a file can have at most 100 MiB; this one is larger");
    }
    return encrypted.status();
  }
  content::Content content;
  content.set_client_message_id(id.data(), id.size());
  auto* text = content.mutable_text();
  text->set_body(caption);
  auto* pointer = text->mutable_attachment();
  pointer->set_key(encrypted->key.data(), encrypted->key.size());
  pointer->set_digest(encrypted->digest.data(), encrypted->digest.size());
  pointer->set_size(encrypted->size);
  pointer->set_ciphertext_size(encrypted->ciphertext_size);
  pointer->set_chunk_size(encrypted->chunk_size);
  pointer->set_file_name(attachment::sanitize_file_name(path.filename().string()));
  pointer->set_content_type(guess_content_type(path));

  Status recorded = [&]() -> Status {
    PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
    if (is_group) {
      PARLEY_RETURN_IF_ERROR(record_outgoing_group_text(*this, peer, content));
    } else {
      PARLEY_RETURN_IF_ERROR(record_outgoing_text(peer, content));
    }
    AttachmentRecord record;
    record.peer = Bytes(peer.begin(), peer.end());
    record.direction = MessageDirection::kOutgoing;
    record.client_message_id = id;
    std::string serialized_pointer = pointer->SerializeAsString();
    record.pointer = SecretBytes(as_bytes(serialized_pointer));
    secure_wipe(serialized_pointer.data(), serialized_pointer.size());
    record.file_name = pointer->file_name();
    record.content_type = pointer->content_type();
    record.size = encrypted->size;
    record.local_path = std::filesystem::absolute(path, error).string();
    record.created_ms = now_ms();
    PARLEY_RETURN_IF_ERROR(store->add_attachment(record));

    AttachmentUpload upload;
    upload.peer = Bytes(peer.begin(), peer.end());
    upload.is_group = is_group;
    upload.client_message_id = id;
    std::string serialized = content.SerializeAsString();
    upload.content = SecretBytes(as_bytes(serialized));
    secure_wipe(serialized.data(), serialized.size());
    upload.ciphertext_file = sealed.string();
    upload.ciphertext_size = encrypted->ciphertext_size;
    upload.created_ms = now_ms();
    PARLEY_RETURN_IF_ERROR(store->add_upload(upload));
    return tx.commit();
  }();
  content.Clear();
  if (!recorded.ok()) {
    attachment::remove_quietly(sealed);
    return recorded;
  }
  return hex_id(id);
}

namespace {

// Encrypted copies no upload refers to (a crash between encrypting and recording, or between
// finishing and deleting) are removed once they are an hour old: younger ones may belong to
// another process of this home that is still recording its upload.
void sweep_leftovers(const Client::Impl& impl, const std::vector<AttachmentUpload>& uploads) {
  std::error_code error;
  std::filesystem::directory_iterator entries(attachments_dir(impl), error);
  if (error) return;
  auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto& entry : entries) {
    if (entry.path().extension() != ".enc") continue;
    bool referenced = std::any_of(uploads.begin(), uploads.end(), [&](const auto& upload) {
      return std::filesystem::path(upload.ciphertext_file) == entry.path();
    });
    auto modified = entry.last_write_time(error);
    if (!referenced && !error && modified < cutoff) attachment::remove_quietly(entry.path());
  }
}

}  // namespace

Status Client::Impl::run_uploads() {
  PARLEY_ASSIGN_OR_RETURN(std::vector<AttachmentUpload> uploads, store->uploads());
  if (!attachments_swept) {
    attachments_swept = true;
    sweep_leftovers(*this, uploads);
  }
  for (AttachmentUpload& upload : uploads) {
    if (upload.next_attempt_ms > now_ms()) continue;
    if (transfers_stopped()) return Status();
    Uploader uploader{*this, upload, {}, {}};
    Status done = uploader.run();
    // A connection that breaks while the upload moves (a censor cutting flows after so many
    // bytes, a flaky network) is replaced as long as each one carries some of the file.
    while (is_network_error(done.code()) && uploader.moved > 0) {
      drop_connection();
      uploader.moved = 0;
      done = uploader.run();
    }
    if (done.ok()) continue;
    if (done.code() == ErrorCode::kCancelled) return Status();  // paused: resumes later
    if (is_network_error(done.code()) || is_storage_error(done.code())) return done;

    Event warning;
    warning.kind = Event::Kind::kWarning;
    warning.peer_account_hex = hex_id(upload.peer);
    if (!upload.is_group) warning.peer_username = display_name(upload.peer);
    warning.client_message_id_hex = hex_id(upload.client_message_id);
    warning.code = done.code();
    if (attachment::gives_up(done.code())) {
      PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
      auto failed =
          store->advance_status(upload.peer, MessageDirection::kOutgoing, upload.client_message_id,
                                MessageStatus::kFailed, now_ms());
      if (!failed.ok() && failed.status().code() != ErrorCode::kNotFound) return failed.status();
      PARLEY_ASSIGN_OR_RETURN(
          auto record,
          store->attachment(upload.peer, MessageDirection::kOutgoing, upload.client_message_id));
      if (record) {
        record->state = AttachmentState::kFailed;
        record->error = done.message();
        PARLEY_RETURN_IF_ERROR(store->update_attachment(*record));
      }
      PARLEY_RETURN_IF_ERROR(store->remove_upload(upload.id));
      PARLEY_RETURN_IF_ERROR(tx.commit());
      attachment::remove_quietly(upload.ciphertext_file);
      warning.body = "a file could not be sent and was given up: " + done.message();
      emit(warning);
      continue;
    }
    // Transient (the server is busy, rate limits): try this one again later, go on with others.
    upload.attempts += 1;
    upload.next_attempt_ms = now_ms() + attachment::backoff_ms(upload.attempts);
    PARLEY_RETURN_IF_ERROR(store->update_upload(upload));
    warning.body = "a file upload will be retried: " + done.message();
    emit(warning);
  }
  return Status();
}

// ---- Client ----------------------------------------------------------------------------------

Result<std::string> Client::queue_file(const std::string& username,
                                       const std::filesystem::path& path,
                                       const std::string& caption) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Contact contact, impl_->contact_for_username(username, !impl_->offline));
  if (contact.identity_changed && contact.verified) {
    return Status::error(ErrorCode::kUntrustedIdentity,
                         "you verified " + username +
                             " before, and their identity key has changed since: compare safety "
                             "numbers again with `parley verify " +
                             username + "` before writing");
  }
  return impl_->queue_attachment(contact.account_id, false, path, caption);
}

Result<std::string> Client::queue_group_file(const std::string& group,
                                             const std::filesystem::path& path,
                                             const std::string& caption) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Bytes group_id, impl_->resolve_group(group));
  PARLEY_ASSIGN_OR_RETURN(auto record, impl_->store->group(group_id));
  if (!record || !record->is_member) {
    return Status::error(ErrorCode::kPermissionDenied, "you are no longer a member of this group");
  }
  return impl_->queue_attachment(group_id, true, path, caption);
}

void Client::set_transfer_progress_handler(TransferProgressHandler handler) {
  impl_->on_progress = std::move(handler);
}

}  // namespace parley::client
