// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/proto/frame.h"

namespace parley::proto {

Bytes encode_frame(wire::Frame frame) {
  frame.set_version(kProtocolVersion);
  Bytes out(frame.ByteSizeLong());
  // Serialization of an in-memory message only fails above 2 GiB, which limits rule out.
  if (!out.empty()) frame.SerializeWithCachedSizesToArray(out.data());
  return out;
}

std::shared_ptr<const Bytes> encode_shared(wire::Frame frame) {
  return std::make_shared<const Bytes>(encode_frame(std::move(frame)));
}

wire::Frame request_frame(wire::Request request) {
  wire::Frame frame;
  frame.set_version(kProtocolVersion);
  *frame.mutable_request() = std::move(request);
  return frame;
}

wire::Frame push_frame(wire::Push push) {
  wire::Frame frame;
  frame.set_version(kProtocolVersion);
  *frame.mutable_push() = std::move(push);
  return frame;
}

wire::Frame response_frame(std::uint64_t request_id, const Status& status) {
  wire::Frame frame;
  frame.set_version(kProtocolVersion);
  wire::Response* response = frame.mutable_response();
  response->set_id(request_id);
  response->set_status(static_cast<std::uint32_t>(status.code()));
  std::string message = status.ok() ? std::string() : status.message();
  if (message.empty() && !status.ok()) message = std::string(error_code_description(status.code()));
  if (message.size() > Limits{}.max_error_message_bytes) {
    message.resize(Limits{}.max_error_message_bytes);
  }
  response->set_message(std::move(message));
  return frame;
}

std::string_view request_type_name(const wire::Request& request) {
  switch (request.body_case()) {
    case wire::Request::kPing:
      return "ping";
    case wire::Request::kRegistrationChallenge:
      return "registration_challenge";
    case wire::Request::kCreateAccount:
      return "create_account";
    case wire::Request::kAuthChallenge:
      return "auth_challenge";
    case wire::Request::kAuthenticate:
      return "authenticate";
    case wire::Request::kSetUsername:
      return "set_username";
    case wire::Request::kLookupUsername:
      return "lookup_username";
    case wire::Request::kDeleteAccount:
      return "delete_account";
    case wire::Request::kCreateLinkCode:
      return "create_link_code";
    case wire::Request::kLinkDevice:
      return "link_device";
    case wire::Request::kSetDeviceList:
      return "set_device_list";
    case wire::Request::kGetDevices:
      return "get_devices";
    case wire::Request::kRemoveDevice:
      return "remove_device";
    case wire::Request::kUploadPrekeys:
      return "upload_prekeys";
    case wire::Request::kGetPrekeyBundle:
      return "get_prekey_bundle";
    case wire::Request::kSendMessage:
      return "send_message";
    case wire::Request::kAckMessages:
      return "ack_messages";
    case wire::Request::kSendGroupMessage:
      return "send_group_message";
    case wire::Request::kCreateAttachment:
      return "create_attachment";
    case wire::Request::kUploadAttachmentChunk:
      return "upload_attachment_chunk";
    case wire::Request::kGetAttachment:
      return "get_attachment";
    case wire::Request::kDownloadAttachmentChunk:
      return "download_attachment_chunk";
    case wire::Request::BODY_NOT_SET:
      break;
  }
  return "none";
}

}  // namespace parley::proto
