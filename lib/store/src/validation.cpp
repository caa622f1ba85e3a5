// SPDX-License-Identifier: AGPL-3.0-or-later
#include "validation.h"

#include <set>
#include <string>

namespace parley::store {

Status validate_username(std::string_view username) {
  if (username.empty()) return Status::error(ErrorCode::kInvalidArgument, "empty username");
  return {};
}

Status validate_new_account(const Account& account) {
  if (account.identity_key.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "empty identity key");
  }
  if (account.username) PARLEY_RETURN_IF_ERROR(validate_username(*account.username));
  return {};
}

Status validate_new_device(const Device& device) {
  if (device.device_id == 0) return Status::error(ErrorCode::kInvalidArgument, "device id 0");
  if (device.public_key.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "empty device public key");
  }
  return {};
}

Status validate_signed_prekey(const SignedPrekey& prekey) {
  if (prekey.public_key.empty() || prekey.signature.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "signed prekey without key or signature");
  }
  return {};
}

Status validate_one_time_prekeys(std::span<const OneTimePrekey> prekeys) {
  std::set<std::uint32_t> ids;
  for (const OneTimePrekey& prekey : prekeys) {
    if (prekey.public_key.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "one-time prekey without key");
    }
    if (!ids.insert(prekey.key_id).second) {
      return Status::error(ErrorCode::kInvalidArgument, "duplicate one-time prekey id in batch");
    }
  }
  return {};
}

Status validate_append(const AppendRequest& request) {
  if (request.envelopes.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "append without envelopes");
  }
  if (request.shared_payload && request.shared_payload->empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "empty shared payload");
  }
  for (const NewEnvelope& envelope : request.envelopes) {
    if (envelope.recipient.device_id == 0 || (envelope.sender && envelope.sender->device_id == 0)) {
      return Status::error(ErrorCode::kInvalidArgument, "device id 0");
    }
  }
  return {};
}

Status unknown_device_error(const DeviceAddress& address) {
  return Status::error(ErrorCode::kNotFound, "no " + to_string(address));
}

Status queue_full_error(const DeviceAddress& address, std::uint64_t cap) {
  return Status::error(ErrorCode::kQueueFull, "mailbox of " + to_string(address) + " holds " +
                                                  std::to_string(cap) + " messages (its cap)");
}

Status validate_new_blob(std::uint64_t size, std::int64_t now_ms, std::int64_t expires_ms,
                         const BlobLimits& limits) {
  if (size == 0) return Status::error(ErrorCode::kInvalidArgument, "blob size 0");
  if (expires_ms <= now_ms) {
    return Status::error(ErrorCode::kInvalidArgument, "blob would expire at once");
  }
  if (size > limits.max_blob_bytes) {
    return Status::error(ErrorCode::kTooLarge,
                         "blob exceeds " + std::to_string(limits.max_blob_bytes) + " bytes");
  }
  return Status();
}

Status admit_new_blob(std::uint64_t used, std::uint64_t incomplete, std::uint64_t size,
                      const BlobLimits& limits) {
  if (used + size > limits.quota_bytes_per_account) {
    return Status::error(ErrorCode::kQuotaExceeded,
                         "the account's blobs would exceed its quota of " +
                             std::to_string(limits.quota_bytes_per_account) + " bytes");
  }
  if (limits.max_incomplete_per_account != 0 && incomplete >= limits.max_incomplete_per_account) {
    return Status::error(
        ErrorCode::kResourceExhausted,
        "the account has " + std::to_string(incomplete) + " unfinished uploads, its limit");
  }
  return Status();
}

}  // namespace parley::store
