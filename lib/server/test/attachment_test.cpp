// SPDX-License-Identifier: AGPL-3.0-or-later
// Attachments: create, chunked upload with resume, status, chunked download by another account,
// ownership, quota, size limit and expiry.
#include <gtest/gtest.h>

#include "test_harness.h"

namespace parley::server::testing {
namespace {

constexpr std::size_t kChunk = 12UL * 1024;

std::string content(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 31) ^ (i >> 8));
  return out;
}

ServerCoreConfig attachment_config() {
  ServerCoreConfig config = CoreFixture::test_config();
  config.max_attachment_bytes = 200'000;
  config.attachment_quota_bytes = 300'000;
  config.max_pending_uploads = 3;
  return config;
}

class AttachmentTest : public ::testing::Test, public CoreFixture {
 protected:
  AttachmentTest() : CoreFixture(attachment_config()) {
    alice_.sign_up_and_in(alice_id_);
    bob_.sign_up_and_in(bob_id_);
  }

  wire::Response create(Client& client, std::uint64_t size) {
    wire::Request r;
    r.mutable_create_attachment()->set_size(size);
    return client.call(r);
  }
  wire::Response upload(Client& client, const std::string& id, std::uint64_t offset,
                        const std::string& data) {
    wire::Request r;
    auto* chunk = r.mutable_upload_attachment_chunk();
    chunk->set_attachment_id(id);
    chunk->set_offset(offset);
    chunk->set_data(data);
    return client.call(r);
  }
  wire::Response get(Client& client, const std::string& id) {
    wire::Request r;
    r.mutable_get_attachment()->set_attachment_id(id);
    return client.call(r);
  }
  wire::Response download(Client& client, const std::string& id, std::uint64_t offset,
                          std::uint32_t max_bytes = kChunk) {
    wire::Request r;
    auto* d = r.mutable_download_attachment_chunk();
    d->set_attachment_id(id);
    d->set_offset(offset);
    d->set_max_bytes(max_bytes);
    return client.call(r);
  }
  // Creates and uploads `data` from Alice; returns the id.
  std::string upload_all(const std::string& data) {
    wire::Response created = create(alice_, data.size());
    EXPECT_EQ(status_of(created), ErrorCode::kOk) << created.message();
    std::string id = created.create_attachment().attachment_id();
    for (std::size_t offset = 0; offset < data.size(); offset += kChunk) {
      wire::Response r = upload(alice_, id, offset, data.substr(offset, kChunk));
      EXPECT_EQ(status_of(r), ErrorCode::kOk) << r.message();
    }
    return id;
  }

  Client alice_{*core}, bob_{*core};
  Identity alice_id_, bob_id_;
};

TEST_F(AttachmentTest, UploadInSmallChunksAndAnotherAccountDownloadsIt) {
  const std::string data = content(50'000);
  wire::Response created = create(alice_, data.size());
  ASSERT_EQ(status_of(created), ErrorCode::kOk) << created.message();
  const std::string id = created.create_attachment().attachment_id();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(created.create_attachment().max_chunk_bytes(), 64u * 1024);
  EXPECT_EQ(created.create_attachment().expires_ms(),
            unix_millis(clock.now()) + 30LL * 24 * 3600 * 1000);

  for (std::size_t offset = 0; offset < data.size(); offset += kChunk) {
    wire::Response r = upload(alice_, id, offset, data.substr(offset, kChunk));
    ASSERT_EQ(status_of(r), ErrorCode::kOk) << r.message();
    EXPECT_EQ(r.upload_attachment_chunk().received(), std::min(data.size(), offset + kChunk));
    EXPECT_EQ(r.upload_attachment_chunk().complete(), offset + kChunk >= data.size());
  }
  wire::Response status = get(bob_, id);
  ASSERT_EQ(status_of(status), ErrorCode::kOk);
  EXPECT_EQ(status.get_attachment().size(), 50'000u);
  EXPECT_EQ(status.get_attachment().received(), 50'000u);
  EXPECT_TRUE(status.get_attachment().complete());
  EXPECT_EQ(status.get_attachment().expires_ms(), created.create_attachment().expires_ms());

  std::string back;
  while (true) {
    wire::Response part = download(bob_, id, back.size());
    ASSERT_EQ(status_of(part), ErrorCode::kOk) << part.message();
    EXPECT_EQ(part.download_attachment_chunk().size(), 50'000u);
    if (part.download_attachment_chunk().data().empty()) break;
    EXPECT_LE(part.download_attachment_chunk().data().size(), kChunk);
    back += part.download_attachment_chunk().data();
  }
  EXPECT_EQ(back, data);
  EXPECT_EQ(metrics.value("parley_attachment_bytes_uploaded_total"), 50'000);
  EXPECT_EQ(metrics.value("parley_attachment_bytes_downloaded_total"), 50'000);
  EXPECT_EQ(metrics.value("parley_attachments_stored"), 1);
  EXPECT_EQ(status_of(download(bob_, id, 50'001)), ErrorCode::kOutOfRange);
}

TEST_F(AttachmentTest, AWrongOffsetAnswersWithWhatTheServerHoldsAndTheUploadResumes) {
  const std::string data = content(40'000);
  const std::string id = create(alice_, data.size()).create_attachment().attachment_id();
  ASSERT_EQ(status_of(upload(alice_, id, 0, data.substr(0, kChunk))), ErrorCode::kOk);
  // The ack of the first chunk was lost: the client sends it again.
  wire::Response repeat = upload(alice_, id, 0, data.substr(0, kChunk));
  EXPECT_EQ(status_of(repeat), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(repeat.has_upload_attachment_chunk()) << "the body says where to resume";
  EXPECT_EQ(repeat.upload_attachment_chunk().received(), kChunk);
  EXPECT_FALSE(repeat.upload_attachment_chunk().complete());
  // A chunk from too far ahead.
  wire::Response ahead = upload(alice_, id, 2 * kChunk, data.substr(2 * kChunk, kChunk));
  EXPECT_EQ(status_of(ahead), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ahead.upload_attachment_chunk().received(), kChunk);
  EXPECT_NE(ahead.message().find("resume"), std::string::npos) << ahead.message();
  // Resume from `received`, as a restarted client would after GetAttachment.
  std::uint64_t offset = get(alice_, id).get_attachment().received();
  for (; offset < data.size(); offset += kChunk) {
    ASSERT_EQ(status_of(upload(alice_, id, offset, data.substr(offset, kChunk))), ErrorCode::kOk);
  }
  std::string back;
  for (std::uint64_t at = 0; at < data.size(); at += 64UL * 1024) {
    back += download(bob_, id, at, 64 * 1024).download_attachment_chunk().data();
  }
  EXPECT_EQ(back, data);
  EXPECT_TRUE(alice_.sink().close_reason() == std::nullopt);  // errors keep the connection
}

TEST_F(AttachmentTest, OnlyTheCreatingAccountUploadsAndNobodyDownloadsUnfinished) {
  const std::string id = create(alice_, 100).create_attachment().attachment_id();
  wire::Response r = upload(bob_, id, 0, "x");
  EXPECT_EQ(status_of(r), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(r.has_upload_attachment_chunk());
  r = download(bob_, id, 0);
  EXPECT_EQ(status_of(r), ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.message().find("not complete"), std::string::npos) << r.message();
  EXPECT_EQ(status_of(upload(alice_, id, 0, std::string(101, 'x'))), ErrorCode::kOutOfRange);

  // Another device of the same account may continue the upload.
  wire::Request link;
  link.mutable_create_link_code();
  std::string code = alice_.call(link).create_link_code().code();
  Client second(*core);
  Identity second_id;
  ASSERT_EQ(status_of(second.link_device(second_id, code)), ErrorCode::kOk);
  ASSERT_EQ(status_of(second.authenticate(second_id)), ErrorCode::kOk);
  EXPECT_EQ(status_of(upload(second, id, 0, std::string(100, 'x'))), ErrorCode::kOk);
}

TEST_F(AttachmentTest, SizeLimitQuotaAndPendingUploads) {
  wire::Response r = create(alice_, 200'001);
  EXPECT_EQ(status_of(r), ErrorCode::kTooLarge);
  EXPECT_NE(r.message().find("200000 bytes"), std::string::npos) << r.message();
  EXPECT_EQ(status_of(create(alice_, 200'000)), ErrorCode::kOk);
  EXPECT_EQ(status_of(create(alice_, 100'000)), ErrorCode::kOk);
  r = create(alice_, 1);  // 300,001 > the 300,000 quota
  EXPECT_EQ(status_of(r), ErrorCode::kQuotaExceeded);
  EXPECT_EQ(static_cast<std::uint32_t>(r.status()), 405u);
  EXPECT_NE(r.message().find("quota of 300000 bytes"), std::string::npos) << r.message();
  // Per account.
  EXPECT_EQ(status_of(create(bob_, 10)), ErrorCode::kOk);
  EXPECT_EQ(status_of(create(bob_, 10)), ErrorCode::kOk);
  EXPECT_EQ(status_of(create(bob_, 10)), ErrorCode::kOk);
  r = create(bob_, 10);  // a fourth unfinished upload
  EXPECT_EQ(status_of(r), ErrorCode::kResourceExhausted);
  EXPECT_NE(r.message().find("unfinished uploads"), std::string::npos) << r.message();
  EXPECT_TRUE(alice_.sink().close_reason() == std::nullopt);
}

TEST_F(AttachmentTest, ExpiredAttachmentsSaySoBeforeAndAfterThePurge) {
  const std::string id = upload_all(content(1000));
  const std::string unfinished = create(alice_, 1000).create_attachment().attachment_id();
  clock.advance(std::chrono::hours(24 * 30 - 1));
  EXPECT_EQ(status_of(get(bob_, id)), ErrorCode::kOk);
  clock.advance(std::chrono::hours(1));
  wire::Response r = get(bob_, id);
  EXPECT_EQ(status_of(r), ErrorCode::kExpired);
  EXPECT_EQ(static_cast<std::uint32_t>(r.status()), 113u);
  EXPECT_EQ(r.message(), "attachment expired (kept 30 days)");
  EXPECT_EQ(status_of(upload(alice_, unfinished, 0, "x")), ErrorCode::kExpired);

  ASSERT_TRUE(core->run_maintenance().ok());
  EXPECT_EQ(metrics.value("parley_attachments_purged_total"), 2);
  EXPECT_EQ(metrics.value("parley_attachments_stored"), 0);
  EXPECT_EQ(blobs.stats().blobs, 0u);
  r = download(bob_, id, 0);
  EXPECT_EQ(status_of(r), ErrorCode::kExpired);
  EXPECT_EQ(r.message(), "attachment expired (kept 30 days)");

  std::string never(16, '\x07');
  r = get(bob_, never);
  EXPECT_EQ(status_of(r), ErrorCode::kNotFound);
  EXPECT_EQ(r.message(), "attachment not found");
  // Expired attachments no longer count against the quota.
  EXPECT_EQ(status_of(create(alice_, 200'000)), ErrorCode::kOk);
}

TEST_F(AttachmentTest, NeedASignedInDevice) {
  Client stranger(*core);
  EXPECT_EQ(status_of(create(stranger, 10)), ErrorCode::kUnauthenticated);
  const std::string id = upload_all(content(10));
  EXPECT_EQ(status_of(get(stranger, id)), ErrorCode::kUnauthenticated);
  EXPECT_EQ(status_of(download(stranger, id, 0)), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace parley::server::testing
