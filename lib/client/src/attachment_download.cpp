// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Receiving a file: the receiver records a download with the message (same transaction); after
// the queue is drained, sync()/listen() fetch the ciphertext in small chunks into
// <download dir>/.parley-partial/<id>.part, resuming from that file's size after any disconnect
// or restart. Then the digest and every chunk are checked while decrypting into a temporary
// file beside it, which is moved into the download directory under the sanitized name only when
// everything verified. A file that expired on the server, was changed, or is described
// wrongly is marked failed with a sentence (kWarning) and never retried; no half-written
// plaintext is ever left in the download directory.

#include <algorithm>
#include <system_error>

#include "attachment_files.h"
#include "attachment_transfer.h"
#include "parley/util/encoding.h"

namespace parley::client {

namespace {

// Freeze mode: the smallest chunk worth a request, and what a chunk reply adds to its data
// (protobuf, WebSocket and TLS framing, with room to spare).
constexpr std::uint64_t kFreezeMinChunkBytes = 2048;
constexpr std::uint64_t kChunkReplyOverhead = 512;

}  // namespace

namespace {

using attachment::kDefaultChunkBytes;

// The pointer as the sender described it, checked before anything is fetched.
Status check_pointer(const content::AttachmentPointer& pointer) {
  if (pointer.attachment_id().size() != proto::kAttachmentIdSize ||
      pointer.key().size() != attachment::kKeyBytes ||
      pointer.digest().size() != attachment::kDigestBytes || pointer.chunk_size() == 0 ||
      pointer.chunk_size() > attachment::kMaxPlainChunkBytes ||
      pointer.size() > attachment::kMaxPlaintextBytes ||
      pointer.ciphertext_size() !=
          attachment::ciphertext_size_for(pointer.size(), pointer.chunk_size())) {
    return Status::error(ErrorCode::kMalformedInput,
                         "the message describes its file wrongly (id, key, digest or sizes)");
  }
  return Status();
}

// Printable ASCII of a sane length, else nothing: it is only a hint.
std::string safe_content_type(const std::string& type) {
  if (type.size() > 100) return {};
  for (char c : type) {
    if (c <= 0x20 || c >= 0x7f) return {};
  }
  return type;
}

// Words for why a download ended for good.
std::string failure_sentence(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kExpired:
    case ErrorCode::kNotFound:
      return "the file is no longer on the server (it expired or was never completed); ask the "
             "sender to send it again";
    case ErrorCode::kBadMac:
    case ErrorCode::kDecryptFailed:
      return "the downloaded file does not verify, so it was changed on the way or on the "
             "server; it was discarded (" +
             status.message() + ")";
    default:
      return status.message();
  }
}

struct Downloader {
  Client::Impl& impl;
  AttachmentRecord& record;
  content::AttachmentPointer pointer;
  TransferProgress progress;
  std::uint64_t moved = 0;  // bytes fetched during this run

  std::filesystem::path partial_dir() const { return impl.downloads_path() / ".parley-partial"; }
  std::filesystem::path part_file() const {
    return partial_dir() / (hex_id(as_bytes(pointer.attachment_id())) + ".part");
  }
  std::filesystem::path plain_file() const {
    return partial_dir() / (hex_id(as_bytes(pointer.attachment_id())) + ".plain");
  }

  Status fetch() {
    const std::uint64_t total = pointer.ciphertext_size();
    std::error_code error;
    std::uint64_t have = std::filesystem::exists(part_file(), error)
                             ? std::filesystem::file_size(part_file(), error)
                             : 0;
    if (error || have > total) {
      attachment::remove_quietly(part_file());
      have = 0;
    }
    PARLEY_ASSIGN_OR_RETURN(attachment::File file, attachment::File::open_append(part_file()));
    progress.done_bytes = have;
    impl.report_progress(progress);
    std::uint32_t chunks = 0;
    while (have < total) {
      if (impl.transfers_stopped()) {
        PARLEY_RETURN_IF_ERROR(file.close());
        return Status::error(ErrorCode::kCancelled, "the download was paused");
      }
      auto want =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(kDefaultChunkBytes, total - have));
      if (impl.freeze_mode) {
        // On a freezing network each chunk must fit in what the connection may still receive;
        // when too little is left, the connection is replaced first.
        PARLEY_RETURN_IF_ERROR(impl.ensure_signed_in());
        PARLEY_RETURN_IF_ERROR(impl.make_room(kFreezeMinChunkBytes + kChunkReplyOverhead));
        std::uint64_t room = impl.reply_room();
        if (room > kChunkReplyOverhead + kFreezeMinChunkBytes) {
          want =
              static_cast<std::uint32_t>(std::min<std::uint64_t>(want, room - kChunkReplyOverhead));
        } else {
          want = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, kFreezeMinChunkBytes));
        }
      }
      wire::Request request;
      auto* body = request.mutable_download_attachment_chunk();
      body->set_attachment_id(pointer.attachment_id());
      body->set_offset(have);
      body->set_max_bytes(want);
      PARLEY_ASSIGN_OR_RETURN(wire::Response response,
                              attachment::call_server(impl, std::move(request)));
      const auto& chunk = response.download_attachment_chunk();
      if (chunk.size() != total) {
        return Status::error(ErrorCode::kMalformedInput,
                             "the server's copy of the file has another size than the message "
                             "says");
      }
      if (chunk.data().empty()) {
        return Status::error(ErrorCode::kFailedPrecondition,
                             "the server does not have the whole file yet");
      }
      if (chunk.data().size() > want) {
        return Status::error(ErrorCode::kProtocolViolation,
                             "the server sent more of the file than asked");
      }
      PARLEY_RETURN_IF_ERROR(file.write(as_bytes(chunk.data())));
      have += chunk.data().size();
      moved += chunk.data().size();
      if (++chunks % attachment::kProgressEveryChunks == 0) {
        progress.done_bytes = have;
        impl.report_progress(progress);
      }
    }
    PARLEY_RETURN_IF_ERROR(file.sync());
    return file.close();
  }

  // Checks and decrypts the complete ciphertext, then moves the plaintext into place.
  Result<std::filesystem::path> open_and_save() {
    attachment::remove_quietly(plain_file());
    SecretBytes key(as_bytes(pointer.key()));
    attachment::DecryptParams params;
    params.key = &key;
    params.digest = as_bytes(pointer.digest());
    params.size = pointer.size();
    params.ciphertext_size = pointer.ciphertext_size();
    params.chunk_size = pointer.chunk_size();
    Status opened = attachment::decrypt_file(part_file(), plain_file(), params);
    if (!opened.ok()) {
      if (attachment::gives_up(opened.code())) attachment::remove_quietly(part_file());
      return opened;
    }
    auto saved = attachment::move_into_place(plain_file(), impl.downloads_path(), record.file_name);
    if (!saved.ok()) {
      attachment::remove_quietly(plain_file());
      return saved.status();
    }
    return saved;
  }

  Status run() {
    std::error_code error;
    std::filesystem::create_directories(partial_dir(), error);
    if (error) {
      return Status::error(ErrorCode::kStorageIo, "cannot create the download directory " +
                                                      impl.downloads_path().string());
    }
    progress.client_message_id_hex = hex_id(record.client_message_id);
    progress.file_name = record.file_name;
    progress.upload = false;
    progress.total_bytes = pointer.ciphertext_size();
    PARLEY_RETURN_IF_ERROR(fetch());
    progress.done_bytes = pointer.ciphertext_size();
    impl.report_progress(progress);
    PARLEY_ASSIGN_OR_RETURN(std::filesystem::path saved, open_and_save());

    record.state = AttachmentState::kDone;
    record.local_path = saved.string();
    record.error.clear();
    PARLEY_RETURN_IF_ERROR(impl.store->update_attachment(record));
    attachment::remove_quietly(part_file());

    Event event;
    event.kind = Event::Kind::kFileReceived;
    event.outgoing = record.direction == MessageDirection::kOutgoing;
    event.client_message_id_hex = hex_id(record.client_message_id);
    event.body = record.local_path;
    event.file_name = record.file_name;
    event.file_size = record.size;
    fill_conversation(event);
    impl.emit(event);
    return Status();
  }

  // Who the file is from (or, sent by our other device, to).
  void fill_conversation(Event& event) {
    auto message = impl.store->message(record.peer, record.direction, record.client_message_id);
    if (message.ok() && *message) {
      event.sent_ms = (*message)->sent_ms;
      event.device_id = (*message)->sender_device;
    }
    auto conversation = impl.store->conversation(record.peer);
    bool group = conversation.ok() && *conversation && (*conversation)->is_group;
    if (!group) {
      event.peer_account_hex = hex_id(record.peer);
      event.peer_username = impl.display_name(record.peer);
      return;
    }
    event.group_id_hex = hex_id(record.peer);
    auto known = impl.store->group(record.peer);
    if (known.ok() && *known) event.group_name = (*known)->name;
    if (message.ok() && *message && !(*message)->sender.empty()) {
      event.peer_account_hex = hex_id((*message)->sender);
      event.peer_username = impl.display_name((*message)->sender);
    }
  }
};

}  // namespace

std::filesystem::path Client::Impl::downloads_path() const {
  return download_dir ? *download_dir : options.home / "downloads";
}

Status Client::Impl::record_received_attachment(const MessageRecord& message,
                                                const content::Text& text, Event& event) {
  if (!text.has_attachment()) return Status();
  const content::AttachmentPointer& pointer = text.attachment();
  AttachmentRecord record;
  record.peer = message.peer;
  record.direction = message.direction;
  record.client_message_id = message.client_message_id;
  std::string serialized = pointer.SerializeAsString();
  record.pointer = SecretBytes(as_bytes(serialized));
  secure_wipe(serialized.data(), serialized.size());
  record.file_name = attachment::file_name_of(pointer);
  record.content_type = safe_content_type(pointer.content_type());
  record.size = pointer.size();
  record.download = true;
  record.created_ms = now_ms();
  Status valid = check_pointer(pointer);
  if (!valid.ok()) {
    record.state = AttachmentState::kFailed;
    record.error = valid.message();
  }
  Status added = store->add_attachment(record);
  if (added.code() == ErrorCode::kAlreadyExists) return Status();
  PARLEY_RETURN_IF_ERROR(added);
  event.file_name = record.file_name;
  event.file_size = record.size;
  if (!valid.ok()) {
    Event warning = event;
    warning.kind = Event::Kind::kWarning;
    warning.code = valid.code();
    warning.body = "a received file cannot be downloaded: " + valid.message();
    emit(warning);
  }
  return Status();
}

Status Client::Impl::run_downloads() {
  PARLEY_ASSIGN_OR_RETURN(std::vector<AttachmentRecord> records, store->pending_downloads());
  for (AttachmentRecord& record : records) {
    if (record.next_attempt_ms > now_ms()) continue;
    if (transfers_stopped()) return Status();
    Downloader downloader{*this, record, {}, {}};
    Status done = downloader.pointer.ParseFromArray(record.pointer.data(),
                                                    static_cast<int>(record.pointer.size()))
                      ? check_pointer(downloader.pointer)
                      : Status::error(ErrorCode::kMalformedInput, "a stored file does not parse");
    if (done.ok()) done = downloader.run();
    // A connection that breaks while the download moves is replaced as long as each one
    // carries some of the file (see run_uploads).
    while (is_network_error(done.code()) && downloader.moved > 0) {
      drop_connection();
      downloader.moved = 0;
      done = downloader.run();
    }
    if (done.ok()) continue;
    if (done.code() == ErrorCode::kCancelled) return Status();  // paused: resumes later
    // Network trouble, or our own disk: stop here, everything resumes next time.
    if (is_network_error(done.code()) || is_storage_error(done.code())) return done;

    Event warning;
    warning.kind = Event::Kind::kWarning;
    warning.client_message_id_hex = hex_id(record.client_message_id);
    warning.code = done.code();
    warning.file_name = record.file_name;
    warning.file_size = record.size;
    downloader.fill_conversation(warning);
    if (attachment::gives_up(done.code())) {
      attachment::remove_quietly(downloader.part_file());
      record.state = AttachmentState::kFailed;
      record.error = failure_sentence(done);
      PARLEY_RETURN_IF_ERROR(store->update_attachment(record));
      warning.body = "a received file could not be downloaded: " + record.error;
      emit(warning);
      continue;
    }
    record.attempts += 1;
    record.next_attempt_ms = now_ms() + attachment::backoff_ms(record.attempts);
    PARLEY_RETURN_IF_ERROR(store->update_attachment(record));
    warning.body = "a received file will be downloaded later: " + done.message();
    emit(warning);
  }
  return Status();
}

// ---- Client ----------------------------------------------------------------------------------

void Client::set_download_dir(const std::filesystem::path& dir) {
  impl_->download_dir = dir;
}

Result<std::optional<AttachmentView>> Client::attachment(const std::string& conversation,
                                                         const std::string& client_message_id_hex) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  auto id = hex_decode(client_message_id_hex);
  if (!id.ok() || id->size() != kClientMessageIdSize) {
    return Status::error(ErrorCode::kInvalidArgument, "a message id is 32 hex digits");
  }
  Bytes peer;
  auto contact = impl_->contact_for_username(conversation, false);
  if (contact.ok()) {
    peer = contact->account_id;
  } else {
    auto group = impl_->resolve_group(conversation);
    if (!group.ok()) return contact.status();
    peer = *group;
  }
  for (MessageDirection direction : {MessageDirection::kIncoming, MessageDirection::kOutgoing}) {
    PARLEY_ASSIGN_OR_RETURN(auto record, impl_->store->attachment(peer, direction, *id));
    if (!record) continue;
    AttachmentView view;
    view.client_message_id_hex = client_message_id_hex;
    view.file_name = record->file_name;
    view.content_type = record->content_type;
    view.size = record->size;
    view.local_path = record->local_path;
    view.state = record->state == AttachmentState::kDone     ? AttachmentView::State::kDone
                 : record->state == AttachmentState::kFailed ? AttachmentView::State::kFailed
                                                             : AttachmentView::State::kPending;
    view.error = record->error;
    return std::optional<AttachmentView>(std::move(view));
  }
  return std::optional<AttachmentView>();
}

}  // namespace parley::client
