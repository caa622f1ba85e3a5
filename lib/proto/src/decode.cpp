// SPDX-License-Identifier: AGPL-3.0-or-later
#include <set>
#include <string>

#include "parley/proto/frame.h"

namespace parley::proto {
namespace {

// Size in [min, max]: over → kTooLarge, under → kMalformedInput. Names are field names only.
Status check_size(const std::string& field, std::string_view name, std::size_t min,
                  std::size_t max) {
  if (field.size() > max) {
    return Status::error(ErrorCode::kTooLarge,
                         std::string(name) + " exceeds " + std::to_string(max) + " bytes");
  }
  if (field.size() < min) {
    return Status::error(ErrorCode::kMalformedInput,
                         std::string(name) + " is shorter than " + std::to_string(min) + " bytes");
  }
  return Status();
}

Status check_exact(const std::string& field, std::string_view name, std::size_t size) {
  if (field.size() != size) {
    return Status::error(ErrorCode::kMalformedInput,
                         std::string(name) + " must be " + std::to_string(size) + " bytes");
  }
  return Status();
}

Status check_count(std::size_t count, std::string_view name, std::size_t min, std::size_t max) {
  if (count > max) {
    return Status::error(ErrorCode::kTooLarge,
                         std::string(name) + " exceeds " + std::to_string(max) + " entries");
  }
  if (count < min) {
    return Status::error(ErrorCode::kMalformedInput,
                         std::string(name) + " needs at least " + std::to_string(min) + " entry");
  }
  return Status();
}

Status check_nonzero(std::uint64_t value, std::string_view name) {
  if (value == 0) return Status::error(ErrorCode::kMalformedInput, std::string(name) + " is 0");
  return Status();
}

Status validate_upload(const wire::UploadPrekeysRequest& r, const Limits& limits) {
  if (r.has_signed_prekey()) {
    PARLEY_RETURN_IF_ERROR(
        check_exact(r.signed_prekey().public_key(), "signed_prekey.public_key", kPublicKeySize));
    PARLEY_RETURN_IF_ERROR(
        check_exact(r.signed_prekey().signature(), "signed_prekey.signature", kSignatureSize));
  }
  PARLEY_RETURN_IF_ERROR(check_count(static_cast<std::size_t>(r.one_time_prekeys_size()),
                                     "one_time_prekeys", 0, limits.max_prekeys_per_upload));
  std::set<std::uint32_t> ids;
  for (const auto& key : r.one_time_prekeys()) {
    PARLEY_RETURN_IF_ERROR(
        check_exact(key.public_key(), "one_time_prekeys.public_key", kPublicKeySize));
    if (!ids.insert(key.key_id()).second) {
      return Status::error(ErrorCode::kMalformedInput, "duplicate one-time prekey id");
    }
  }
  return Status();
}

Status validate_send(const wire::SendMessageRequest& r, const Limits& limits) {
  PARLEY_RETURN_IF_ERROR(
      check_exact(r.recipient_account_id(), "recipient_account_id", kAccountIdSize));
  PARLEY_RETURN_IF_ERROR(check_size(r.client_message_id(), "client_message_id",
                                    limits.min_client_message_id_bytes,
                                    limits.max_client_message_id_bytes));
  PARLEY_RETURN_IF_ERROR(check_count(static_cast<std::size_t>(r.copies_size()), "copies", 1,
                                     limits.max_copies_per_send));
  std::set<std::uint32_t> devices;
  for (const auto& copy : r.copies()) {
    PARLEY_RETURN_IF_ERROR(check_nonzero(copy.device_id(), "copies.device_id"));
    PARLEY_RETURN_IF_ERROR(
        check_size(copy.ciphertext(), "copies.ciphertext", 1, limits.max_ciphertext_bytes));
    if (!devices.insert(copy.device_id()).second) {
      return Status::error(ErrorCode::kMalformedInput, "two copies for the same device");
    }
  }
  return Status();
}

Status validate_group_send(const wire::SendGroupMessageRequest& r, const Limits& limits) {
  PARLEY_RETURN_IF_ERROR(check_size(r.client_message_id(), "client_message_id",
                                    limits.min_client_message_id_bytes,
                                    limits.max_client_message_id_bytes));
  PARLEY_RETURN_IF_ERROR(check_size(r.ciphertext(), "ciphertext", 1, limits.max_ciphertext_bytes));
  PARLEY_RETURN_IF_ERROR(check_count(static_cast<std::size_t>(r.recipients_size()), "recipients", 1,
                                     limits.max_group_recipient_accounts));
  std::set<std::string> accounts;
  for (const auto& recipient : r.recipients()) {
    PARLEY_RETURN_IF_ERROR(
        check_exact(recipient.account_id(), "recipients.account_id", kAccountIdSize));
    if (!accounts.insert(recipient.account_id()).second) {
      return Status::error(ErrorCode::kMalformedInput, "the same recipient account twice");
    }
    PARLEY_RETURN_IF_ERROR(check_count(static_cast<std::size_t>(recipient.device_ids_size()),
                                       "recipients.device_ids", 1, limits.max_copies_per_send));
    std::set<std::uint32_t> devices;
    for (std::uint32_t device_id : recipient.device_ids()) {
      PARLEY_RETURN_IF_ERROR(check_nonzero(device_id, "recipients.device_ids"));
      if (!devices.insert(device_id).second) {
        return Status::error(ErrorCode::kMalformedInput,
                             "the same device twice for one recipient account");
      }
    }
  }
  return Status();
}

Status check_attachment_id(const std::string& id) {
  return check_exact(id, "attachment_id", kAttachmentIdSize);
}

}  // namespace

Status validate_request(const wire::Request& request, const Limits& limits) {
  switch (request.body_case()) {
    case wire::Request::kPing:
    case wire::Request::kRegistrationChallenge:
    case wire::Request::kAuthChallenge:
    case wire::Request::kDeleteAccount:
    case wire::Request::kCreateLinkCode:
      return Status();
    case wire::Request::kCreateAccount: {
      const auto& r = request.create_account();
      PARLEY_RETURN_IF_ERROR(check_exact(r.identity_key(), "identity_key", kPublicKeySize));
      PARLEY_RETURN_IF_ERROR(check_exact(r.challenge(), "challenge", kChallengeSize));
      PARLEY_RETURN_IF_ERROR(check_size(r.pow_nonce(), "pow_nonce", 0, limits.max_pow_nonce_bytes));
      PARLEY_RETURN_IF_ERROR(check_exact(r.signature(), "signature", kSignatureSize));
      return check_size(r.username(), "username", 0, limits.max_username_input_bytes);
    }
    case wire::Request::kAuthenticate: {
      const auto& r = request.authenticate();
      PARLEY_RETURN_IF_ERROR(check_exact(r.account_id(), "account_id", kAccountIdSize));
      PARLEY_RETURN_IF_ERROR(check_nonzero(r.device_id(), "device_id"));
      PARLEY_RETURN_IF_ERROR(check_exact(r.challenge(), "challenge", kChallengeSize));
      return check_exact(r.signature(), "signature", kSignatureSize);
    }
    case wire::Request::kSetUsername:
      return check_size(request.set_username().username(), "username", 0,
                        limits.max_username_input_bytes);
    case wire::Request::kLookupUsername:
      return check_size(request.lookup_username().username(), "username", 1,
                        limits.max_username_input_bytes);
    case wire::Request::kLinkDevice: {
      const auto& r = request.link_device();
      PARLEY_RETURN_IF_ERROR(check_size(r.code(), "code", 1, limits.max_link_code_bytes));
      PARLEY_RETURN_IF_ERROR(check_exact(r.device_key(), "device_key", kPublicKeySize));
      return check_exact(r.signature(), "signature", kSignatureSize);
    }
    case wire::Request::kSetDeviceList:
      return check_size(request.set_device_list().signed_device_list(), "signed_device_list", 1,
                        limits.max_signed_device_list_bytes);
    case wire::Request::kGetDevices:
      return check_exact(request.get_devices().account_id(), "account_id", kAccountIdSize);
    case wire::Request::kRemoveDevice:
      return check_nonzero(request.remove_device().device_id(), "device_id");
    case wire::Request::kUploadPrekeys:
      return validate_upload(request.upload_prekeys(), limits);
    case wire::Request::kGetPrekeyBundle:
      return check_exact(request.get_prekey_bundle().account_id(), "account_id", kAccountIdSize);
    case wire::Request::kSendMessage:
      return validate_send(request.send_message(), limits);
    case wire::Request::kAckMessages: {
      const auto& r = request.ack_messages();
      PARLEY_RETURN_IF_ERROR(check_count(static_cast<std::size_t>(r.seqs_size()), "seqs", 1,
                                         limits.max_acks_per_request));
      for (std::uint64_t seq : r.seqs()) PARLEY_RETURN_IF_ERROR(check_nonzero(seq, "seqs"));
      return Status();
    }
    case wire::Request::kSendGroupMessage:
      return validate_group_send(request.send_group_message(), limits);
    case wire::Request::kCreateAttachment:
      return check_nonzero(request.create_attachment().size(), "size");
    case wire::Request::kUploadAttachmentChunk: {
      const auto& r = request.upload_attachment_chunk();
      PARLEY_RETURN_IF_ERROR(check_attachment_id(r.attachment_id()));
      return check_size(r.data(), "data", 1, limits.max_attachment_chunk_bytes);
    }
    case wire::Request::kGetAttachment:
      return check_attachment_id(request.get_attachment().attachment_id());
    case wire::Request::kDownloadAttachmentChunk: {
      const auto& r = request.download_attachment_chunk();
      PARLEY_RETURN_IF_ERROR(check_attachment_id(r.attachment_id()));
      PARLEY_RETURN_IF_ERROR(check_nonzero(r.max_bytes(), "max_bytes"));
      if (r.max_bytes() > limits.max_attachment_chunk_bytes) {
        return Status::error(
            ErrorCode::kTooLarge,
            "max_bytes exceeds " + std::to_string(limits.max_attachment_chunk_bytes) + " bytes");
      }
      return Status();
    }
    case wire::Request::BODY_NOT_SET:
      break;
  }
  // Also reached for body numbers this version does not know (parsed as unknown fields).
  return Status::error(ErrorCode::kMalformedInput, "request has no known body");
}

DecodedRequest decode_request(ByteView frame, const Limits& limits) {
  DecodedRequest out;
  if (frame.size() > limits.max_frame_bytes) {
    out.status = Status::error(
        ErrorCode::kTooLarge, "frame exceeds " + std::to_string(limits.max_frame_bytes) + " bytes");
    return out;
  }
  wire::Frame parsed;
  if (frame.size() > static_cast<std::size_t>(INT32_MAX) ||
      !parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    out.status = Status::error(ErrorCode::kMalformedInput, "frame is not a valid Frame message");
    return out;
  }
  if (parsed.has_request()) out.request_id = parsed.request().id();
  if (parsed.version() != kProtocolVersion) {
    out.status = Status::error(ErrorCode::kUnsupportedVersion,
                               "protocol version " + std::to_string(parsed.version()) +
                                   " is not supported; this server speaks version " +
                                   std::to_string(kProtocolVersion));
    return out;
  }
  if (!parsed.has_request()) {
    out.status =
        Status::error(ErrorCode::kProtocolViolation, parsed.kind_case() == wire::Frame::KIND_NOT_SET
                                                         ? "frame holds no request"
                                                         : "clients may send requests only");
    return out;
  }
  out.status = validate_request(parsed.request(), limits);
  if (out.status.ok()) out.request = std::move(*parsed.mutable_request());
  return out;
}

Result<wire::Frame> decode_server_frame(ByteView frame, const Limits& limits) {
  if (frame.size() > limits.max_frame_bytes) {
    return Status::error(ErrorCode::kTooLarge, "frame exceeds the size limit");
  }
  wire::Frame parsed;
  if (frame.size() > static_cast<std::size_t>(INT32_MAX) ||
      !parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return Status::error(ErrorCode::kMalformedInput, "frame is not a valid Frame message");
  }
  if (parsed.version() != kProtocolVersion) {
    return Status::error(ErrorCode::kUnsupportedVersion, "unsupported protocol version");
  }
  if (!parsed.has_response() && !parsed.has_push()) {
    return Status::error(ErrorCode::kProtocolViolation, "servers send responses and pushes only");
  }
  return parsed;
}

}  // namespace parley::proto
