// SPDX-License-Identifier: AGPL-3.0-or-later
#include "message_view.h"

#include "parley/util/encoding.h"

namespace parley::cli {

const char* status_name(client::MessageStatus status) {
  switch (status) {
    case client::MessageStatus::kPending:
      return "pending";
    case client::MessageStatus::kSent:
      return "sent";
    case client::MessageStatus::kDelivered:
      return "delivered";
    case client::MessageStatus::kRead:
      return "read";
    case client::MessageStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

MessageView message_view(const client::MessageRecord& record, const std::string& peer) {
  MessageView view;
  view.peer = peer;
  view.outgoing = record.direction == client::MessageDirection::kOutgoing;
  view.system = record.kind == client::MessageKind::kSystem;
  view.device = record.sender_device;
  view.id_hex = hex_encode(record.client_message_id);
  view.text = record.body;
  view.sent_ms = record.sent_ms;
  view.received_ms = record.received_ms;
  view.expires_at_ms = record.expires_at_ms;
  view.status = status_name(record.status);
  return view;
}

void add_file(MessageView& view, const client::AttachmentView& file) {
  view.has_file = true;
  view.file_name = file.file_name;
  view.file_size = file.size;
  view.file_path = file.local_path;
  switch (file.state) {
    case client::AttachmentView::State::kPending:
      view.file_state = view.outgoing ? "uploading" : "downloading";
      break;
    case client::AttachmentView::State::kDone:
      view.file_state = "done";
      break;
    case client::AttachmentView::State::kFailed:
      view.file_state = "failed: " + file.error;
      break;
  }
}

}  // namespace parley::cli
