// SPDX-License-Identifier: AGPL-3.0-or-later
// Attachments: sizes, chunk limits, offsets, foreign ids, downloads before completion, quotas.
// The runner starts parleyd with max_attachment_mb = 1, attachment_quota_mb = 2 and
// max_pending_uploads = 4 (corpus.h) so the server-side limits are reachable quickly.
#include <gtest/gtest.h>

#include "corpus.h"

namespace parley::testing {
namespace {

using E = ErrorCode;

// Creates an attachment of `size` bytes on the case's connection and uploads `upload` bytes.
std::string own_attachment(CaseContext& ctx, std::uint64_t size, std::uint64_t upload) {
  wire::Request create;
  create.mutable_create_attachment()->set_size(size);
  auto created = ctx.client.call(create);
  EXPECT_TRUE(created.ok() && created->status() == 0);
  if (!created.ok()) return {};
  std::string id = created->create_attachment().attachment_id();
  if (upload > 0) {
    wire::Request chunk;
    chunk.mutable_upload_attachment_chunk()->set_attachment_id(id);
    chunk.mutable_upload_attachment_chunk()->set_data(filler(upload, 'u'));
    auto sent = ctx.client.call(chunk);
    EXPECT_TRUE(sent.ok() && sent->status() == 0);
  }
  return id;
}

Case signed_in(std::string name, const std::function<void(CaseContext&, wire::Request&)>& fill,
               E expected, After after) {
  return Case{std::move(name), State::kSignedIn,
              [fill](CaseContext& ctx) {
                wire::Request r;
                fill(ctx, r);
                return frame_of(r);
              },
              expected, after};
}

void chunk(wire::Request& r, const std::string& id, std::uint64_t offset, std::size_t size) {
  auto* body = r.mutable_upload_attachment_chunk();
  body->set_attachment_id(id);
  body->set_offset(offset);
  body->set_data(filler(size, 'd'));
}

void download(wire::Request& r, const std::string& id, std::uint64_t offset,
              std::uint32_t max_bytes) {
  auto* body = r.mutable_download_attachment_chunk();
  body->set_attachment_id(id);
  body->set_offset(offset);
  body->set_max_bytes(max_bytes);
}

}  // namespace

void add_attachment_cases(std::vector<Case>& cases) {
  // ---- create_attachment ------------------------------------------------------------------------
  cases.push_back(signed_in(
      "create_attachment of 0 bytes",
      [](CaseContext&, wire::Request& r) { r.mutable_create_attachment()->set_size(0); },
      E::kMalformedInput, After::kClose));
  cases.push_back(signed_in(
      "create_attachment over the server's size limit",
      [](CaseContext&, wire::Request& r) {
        r.mutable_create_attachment()->set_size(kMaxAttachmentBytes + 1);
      },
      E::kTooLarge, After::kOpen));
  cases.push_back(signed_in(
      "create_attachment of 2^64-1 bytes",
      [](CaseContext&, wire::Request& r) {
        r.mutable_create_attachment()->set_size(~std::uint64_t{0});
      },
      E::kTooLarge, After::kOpen));
  cases.push_back(signed_in(
      "create_attachment at the server's size limit",
      [](CaseContext&, wire::Request& r) {
        r.mutable_create_attachment()->set_size(kMaxAttachmentBytes);
      },
      E::kOk, After::kOpen));
  cases.push_back(signed_in(
      "create_attachment over the account's quota",
      [](CaseContext& ctx, wire::Request& r) {
        for (std::uint64_t used = 0; used + kMaxAttachmentBytes <= kAttachmentQuotaBytes;
             used += kMaxAttachmentBytes) {
          own_attachment(ctx, kMaxAttachmentBytes, 0);
        }
        r.mutable_create_attachment()->set_size(1);
      },
      E::kQuotaExceeded, After::kOpen));
  cases.push_back(signed_in(
      "create_attachment with too many unfinished uploads",
      [](CaseContext& ctx, wire::Request& r) {
        for (std::uint32_t i = 0; i < kMaxPendingUploads; ++i) own_attachment(ctx, 10, 0);
        r.mutable_create_attachment()->set_size(10);
      },
      E::kResourceExhausted, After::kOpen));
  cases.push_back(signed_in(
      "create_attachment after finishing uploads frees the slot",
      [](CaseContext& ctx, wire::Request& r) {
        for (std::uint32_t i = 0; i < kMaxPendingUploads; ++i) own_attachment(ctx, 10, 10);
        r.mutable_create_attachment()->set_size(10);
      },
      E::kOk, After::kOpen));

  // ---- upload_attachment_chunk ------------------------------------------------------------------
  cases.push_back(signed_in(
      "upload chunk with a 15-byte attachment id",
      [](CaseContext&, wire::Request& r) { chunk(r, random_field(15), 0, 10); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(signed_in(
      "upload chunk with a 17-byte attachment id",
      [](CaseContext&, wire::Request& r) { chunk(r, random_field(17), 0, 10); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(signed_in(
      "upload chunk with no data",
      [](CaseContext& ctx, wire::Request& r) { chunk(r, own_attachment(ctx, 10, 0), 0, 0); },
      E::kMalformedInput, After::kClose));
  cases.push_back(signed_in(
      "upload chunk of 64 KiB + 1",
      [](CaseContext& ctx, wire::Request& r) {
        chunk(r, own_attachment(ctx, 100000, 0), 0, 65537);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(signed_in(
      "upload chunk of 64 KiB",
      [](CaseContext& ctx, wire::Request& r) {
        chunk(r, own_attachment(ctx, 100000, 0), 0, 65536);
      },
      E::kOk, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk to an unknown attachment",
      [](CaseContext&, wire::Request& r) { chunk(r, random_field(16), 0, 10); }, E::kNotFound,
      After::kOpen));
  cases.push_back(signed_in(
      "upload chunk to bob's attachment",
      [](CaseContext& ctx, wire::Request& r) {
        chunk(r, str(ctx.world.bob_incomplete_attachment), 10, 10);
      },
      E::kPermissionDenied, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk to bob's complete attachment",
      [](CaseContext& ctx, wire::Request& r) {
        chunk(r, str(ctx.world.bob_complete_attachment), 10, 1);
      },
      E::kPermissionDenied, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk at an offset ahead of the data",
      [](CaseContext& ctx, wire::Request& r) { chunk(r, own_attachment(ctx, 100, 10), 20, 10); },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk repeated (offset behind the data)",
      [](CaseContext& ctx, wire::Request& r) { chunk(r, own_attachment(ctx, 100, 10), 0, 10); },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk at offset 2^64-1",
      [](CaseContext& ctx, wire::Request& r) {
        chunk(r, own_attachment(ctx, 100, 0), ~std::uint64_t{0}, 1);
      },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk past the declared size",
      [](CaseContext& ctx, wire::Request& r) { chunk(r, own_attachment(ctx, 10, 0), 0, 11); },
      E::kOutOfRange, After::kOpen));
  cases.push_back(signed_in(
      "upload chunk to a complete attachment",
      [](CaseContext& ctx, wire::Request& r) { chunk(r, own_attachment(ctx, 10, 10), 10, 1); },
      E::kOutOfRange, After::kOpen));

  // ---- get_attachment
  // -----------------------------------------------------------------------------
  cases.push_back(signed_in(
      "get_attachment with an empty id",
      [](CaseContext&, wire::Request& r) { r.mutable_get_attachment(); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(signed_in(
      "get_attachment with a 32-byte id",
      [](CaseContext&, wire::Request& r) {
        r.mutable_get_attachment()->set_attachment_id(random_field(32));
      },
      E::kMalformedInput, After::kClose));
  cases.push_back(signed_in(
      "get_attachment unknown",
      [](CaseContext&, wire::Request& r) {
        r.mutable_get_attachment()->set_attachment_id(random_field(16));
      },
      E::kNotFound, After::kOpen));
  cases.push_back(signed_in(
      "get_attachment of bob's (anyone with the id may)",
      [](CaseContext& ctx, wire::Request& r) {
        r.mutable_get_attachment()->set_attachment_id(str(ctx.world.bob_incomplete_attachment));
      },
      E::kOk, After::kOpen));

  // ---- download_attachment_chunk
  // ------------------------------------------------------------------
  cases.push_back(signed_in(
      "download with a 15-byte id",
      [](CaseContext&, wire::Request& r) { download(r, random_field(15), 0, 10); },
      E::kMalformedInput, After::kClose));
  cases.push_back(signed_in(
      "download with max_bytes 0",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), 0, 0);
      },
      E::kMalformedInput, After::kClose));
  cases.push_back(signed_in(
      "download with max_bytes 64 KiB + 1",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), 0, 65537);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(signed_in(
      "download with max_bytes 2^32-1",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), 0, 0xFFFFFFFFu);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(signed_in(
      "download with max_bytes 64 KiB",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), 0, 65536);
      },
      E::kOk, After::kOpen));
  cases.push_back(signed_in(
      "download an unknown attachment",
      [](CaseContext&, wire::Request& r) { download(r, random_field(16), 0, 10); }, E::kNotFound,
      After::kOpen));
  cases.push_back(signed_in(
      "download bob's unfinished attachment",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_incomplete_attachment), 0, 10);
      },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(signed_in(
      "download its own unfinished attachment",
      [](CaseContext& ctx, wire::Request& r) { download(r, own_attachment(ctx, 20, 10), 0, 5); },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(signed_in(
      "download an attachment created but never uploaded to",
      [](CaseContext& ctx, wire::Request& r) { download(r, own_attachment(ctx, 20, 0), 0, 5); },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(signed_in(
      "download at offset past the end",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), 11, 10);
      },
      E::kOutOfRange, After::kOpen));
  cases.push_back(signed_in(
      "download at offset 2^64-1",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), ~std::uint64_t{0}, 10);
      },
      E::kOutOfRange, After::kOpen));
  cases.push_back(signed_in(
      "download at offset == size (empty, ok)",
      [](CaseContext& ctx, wire::Request& r) {
        download(r, str(ctx.world.bob_complete_attachment), 10, 10);
      },
      E::kOk, After::kOpen));
}

}  // namespace parley::testing
