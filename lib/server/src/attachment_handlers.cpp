// SPDX-License-Identifier: AGPL-3.0-or-later
// Attachments: create (random id, expiry, quota), chunked upload by the creating account with
// resume, status, chunked download by any signed-in device that knows the id, expiry.
//
// The server stores ciphertext only: the key, the file name and the type travel end to end inside
// the message that carries the attachment id. Whoever knows the 128-bit id may download, as with
// any capability; ids are never listed or logged.
#include <algorithm>
#include <string>

#include "core_impl.h"
#include "parley/crypto/random.h"

namespace parley::server {
namespace {

// Tries before giving up on finding an unused random id (a collision of 128 random bits means
// the random generator is broken).
constexpr int kIdAttempts = 3;

std::string describe_duration(std::chrono::seconds duration) {
  const auto seconds = duration.count();
  if (seconds % 86400 == 0) {
    return std::to_string(seconds / 86400) + (seconds == 86400 ? " day" : " days");
  }
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + " hours";
  return std::to_string(seconds) + " seconds";
}

// The blob store's errors in words for the attachment's owner or downloader.
Status attachment_error(const Status& status, const ServerCoreConfig& config) {
  switch (status.code()) {
    case ErrorCode::kNotFound:
      return Status::error(ErrorCode::kNotFound, "attachment not found");
    case ErrorCode::kExpired:
      return Status::error(
          ErrorCode::kExpired,
          "attachment expired (kept " + describe_duration(config.attachment_retention) + ")");
    case ErrorCode::kPermissionDenied:
      return Status::error(ErrorCode::kPermissionDenied,
                           "only the account that created the attachment may upload to it");
    case ErrorCode::kTooLarge:
      return Status::error(ErrorCode::kTooLarge, "attachment exceeds this server's limit of " +
                                                     std::to_string(config.max_attachment_bytes) +
                                                     " bytes");
    case ErrorCode::kQuotaExceeded:
      return Status::error(ErrorCode::kQuotaExceeded,
                           "the account's attachments would exceed its quota of " +
                               std::to_string(config.attachment_quota_bytes) +
                               " bytes; older ones free their space when they expire");
    case ErrorCode::kResourceExhausted:
      return Status::error(ErrorCode::kResourceExhausted,
                           "the account has " + std::to_string(config.max_pending_uploads) +
                               " unfinished uploads, its limit; finish or abandon one first");
    case ErrorCode::kOutOfRange:
      return Status::error(ErrorCode::kOutOfRange,
                           "the chunk or offset is past the end of the attachment");
    default:
      return status;  // storage errors keep their own words; invalid arguments cannot happen
  }
}

}  // namespace

void ServerCore::Impl::update_attachment_gauges() {
  const store::BlobStats stats = blobs.stats();
  metrics.set_gauge("parley_attachments_stored", "", static_cast<double>(stats.blobs));
  metrics.set_gauge("parley_attachment_bytes_stored", "",
                    static_cast<double>(stats.bytes_received));
}

Status ServerCore::Impl::create_attachment(RequestContext& ctx,
                                           const wire::CreateAttachmentRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_device(ctx));
  const std::string account = to_field(device.account_id);
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.attachments_per_account, "attachments_per_account",
                                    "attachments per account", account));
  // Bytes are counted as declared at creation: the upload itself is bounded by that size.
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.attachment_bytes_per_account,
                                    "attachment_bytes_per_account", "attachment bytes per account",
                                    account, r.size()));
  const std::int64_t now = now_ms();
  const std::int64_t expires =
      now +
      std::chrono::duration_cast<std::chrono::milliseconds>(config.attachment_retention).count();
  store::BlobLimits limits;
  limits.max_blob_bytes = config.max_attachment_bytes;
  limits.quota_bytes_per_account = config.attachment_quota_bytes;
  limits.max_incomplete_per_account = config.max_pending_uploads;
  for (int attempt = 0;; ++attempt) {
    PARLEY_ASSIGN_OR_RETURN(store::BlobId id,
                            store::blob_id_from_bytes(crypto::random_bytes(store::kBlobIdSize)));
    Status created = blobs.create(id, device.account_id, r.size(), now, expires, limits);
    if (created.code() == ErrorCode::kAlreadyExists && attempt + 1 < kIdAttempts) continue;
    if (!created.ok()) return attachment_error(created, config);
    auto* body = ctx.response->mutable_create_attachment();
    body->set_attachment_id(std::string(reinterpret_cast<const char*>(id.data()), id.size()));
    body->set_max_chunk_bytes(static_cast<std::uint32_t>(config.limits.max_attachment_chunk_bytes));
    body->set_expires_ms(expires);
    metrics.increment("parley_attachments_created_total");
    update_attachment_gauges();
    return Status();
  }
}

Status ServerCore::Impl::upload_attachment_chunk(RequestContext& ctx,
                                                 const wire::UploadAttachmentChunkRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_device(ctx));
  PARLEY_ASSIGN_OR_RETURN(store::BlobId id,
                          store::blob_id_from_bytes(field_bytes(r.attachment_id())));
  const std::int64_t now = now_ms();
  auto info = blobs.append(id, device.account_id, r.offset(), field_bytes(r.data()), now);
  if (!info.ok()) {
    if (info.status().code() != ErrorCode::kFailedPrecondition) {
      return attachment_error(info.status(), config);
    }
    // A wrong offset (a repeated or lost chunk): say how much the server holds so the client
    // resumes from there without another round trip.
    auto current = blobs.status(id, now);
    if (!current.ok()) return attachment_error(current.status(), config);
    auto* body = ctx.response->mutable_upload_attachment_chunk();
    body->set_received(current->received);
    body->set_complete(current->complete());
    ctx.error_body = true;
    return Status::error(ErrorCode::kFailedPrecondition,
                         "upload offset " + std::to_string(r.offset()) + " is not the " +
                             std::to_string(current->received) +
                             " bytes the server holds; resume from `received`");
  }
  metrics.increment("parley_attachment_bytes_uploaded_total", "", r.data().size());
  auto* body = ctx.response->mutable_upload_attachment_chunk();
  body->set_received(info->received);
  body->set_complete(info->complete());
  if (info->complete()) update_attachment_gauges();
  return Status();
}

Status ServerCore::Impl::get_attachment(RequestContext& ctx, const wire::GetAttachmentRequest& r) {
  PARLEY_RETURN_IF_ERROR(require_device(ctx));
  PARLEY_ASSIGN_OR_RETURN(store::BlobId id,
                          store::blob_id_from_bytes(field_bytes(r.attachment_id())));
  auto info = blobs.status(id, now_ms());
  if (!info.ok()) return attachment_error(info.status(), config);
  auto* body = ctx.response->mutable_get_attachment();
  body->set_size(info->size);
  body->set_received(info->received);
  body->set_complete(info->complete());
  body->set_expires_ms(info->expires_ms);
  return Status();
}

Status ServerCore::Impl::download_attachment_chunk(RequestContext& ctx,
                                                   const wire::DownloadAttachmentChunkRequest& r) {
  PARLEY_RETURN_IF_ERROR(require_device(ctx));
  PARLEY_ASSIGN_OR_RETURN(store::BlobId id,
                          store::blob_id_from_bytes(field_bytes(r.attachment_id())));
  const std::int64_t now = now_ms();
  auto info = blobs.status(id, now);
  if (!info.ok()) return attachment_error(info.status(), config);
  if (!info->complete()) {
    return Status::error(ErrorCode::kFailedPrecondition,
                         "the attachment's upload is not complete yet; try again later");
  }
  const std::uint64_t max_bytes =
      std::min<std::uint64_t>(r.max_bytes(), config.limits.max_attachment_chunk_bytes);
  auto data = blobs.read(id, r.offset(), max_bytes, now);
  if (!data.ok()) return attachment_error(data.status(), config);
  metrics.increment("parley_attachment_bytes_downloaded_total", "", data->size());
  auto* body = ctx.response->mutable_download_attachment_chunk();
  body->set_data(to_field(*data));
  body->set_size(info->size);
  return Status();
}

Status ServerCore::Impl::purge_attachments() {
  auto purged = blobs.purge_expired(now_ms());
  update_attachment_gauges();
  if (!purged.ok()) return purged.status();
  metrics.increment("parley_attachments_purged_total", "", *purged);
  return Status();
}

}  // namespace parley::server
