// SPDX-License-Identifier: AGPL-3.0-or-later
#include <gtest/gtest.h>

#include <string>

#include "parley/proto/frame.h"

namespace parley::proto {
namespace {

Bytes encode_request(wire::Request request) {
  return encode_frame(request_frame(std::move(request)));
}

wire::Request valid_send() {
  wire::Request request;
  request.set_id(7);
  auto* send = request.mutable_send_message();
  send->set_recipient_account_id(std::string(kAccountIdSize, '\x01'));
  send->set_client_message_id("message-0001");
  auto* copy = send->add_copies();
  copy->set_device_id(1);
  copy->set_ciphertext("ciphertext");
  return request;
}

TEST(DecodeRequest, AcceptsAValidRequestAndKeepsItsId) {
  DecodedRequest decoded = decode_request(encode_request(valid_send()), Limits{});
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.to_string();
  EXPECT_EQ(decoded.request_id, 7u);
  EXPECT_EQ(decoded.request.send_message().copies(0).ciphertext(), "ciphertext");
}

TEST(DecodeRequest, RefusesAnOversizeFrameBeforeParsing) {
  Limits limits;
  limits.max_frame_bytes = 100;
  Bytes big(101, 0);
  DecodedRequest decoded = decode_request(big, limits);
  EXPECT_EQ(decoded.status.code(), ErrorCode::kTooLarge);
  EXPECT_EQ(decoded.request_id, 0u);
}

TEST(DecodeRequest, RefusesGarbage) {
  Bytes garbage = {0xff, 0xff, 0xff, 0xff, 0x0f};
  EXPECT_EQ(decode_request(garbage, Limits{}).status.code(), ErrorCode::kMalformedInput);
}

TEST(DecodeRequest, EmptyFrameHasWrongVersion) {
  // An empty buffer parses as a Frame with every field at its default, so version 0.
  EXPECT_EQ(decode_request(Bytes{}, Limits{}).status.code(), ErrorCode::kUnsupportedVersion);
}

TEST(DecodeRequest, RefusesOtherVersionsButReportsTheId) {
  wire::Frame frame = request_frame(valid_send());
  frame.set_version(2);
  std::string raw = frame.SerializeAsString();  // encode_frame would force version 1
  DecodedRequest decoded = decode_request(as_bytes(raw), Limits{});
  EXPECT_EQ(decoded.status.code(), ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(decoded.request_id, 7u);
}

TEST(DecodeRequest, RefusesResponsesAndPushesFromClients) {
  Bytes response = encode_frame(response_frame(1, Status()));
  EXPECT_EQ(decode_request(response, Limits{}).status.code(), ErrorCode::kProtocolViolation);
  wire::Push push;
  push.mutable_queue_empty();
  EXPECT_EQ(decode_request(encode_frame(push_frame(push)), Limits{}).status.code(),
            ErrorCode::kProtocolViolation);
}

TEST(DecodeRequest, RefusesARequestWithoutBody) {
  wire::Request request;
  request.set_id(3);
  DecodedRequest decoded = decode_request(encode_request(request), Limits{});
  EXPECT_EQ(decoded.status.code(), ErrorCode::kMalformedInput);
  EXPECT_EQ(decoded.request_id, 3u);
}

TEST(ValidateRequest, SendLimits) {
  Limits limits;
  wire::Request r = valid_send();
  r.mutable_send_message()->mutable_copies(0)->set_ciphertext(
      std::string(limits.max_ciphertext_bytes + 1, 'x'));
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kTooLarge);

  r = valid_send();
  r.mutable_send_message()->set_client_message_id("short");
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kMalformedInput);
  r.mutable_send_message()->set_client_message_id(std::string(65, 'm'));
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kTooLarge);

  r = valid_send();
  r.mutable_send_message()->set_recipient_account_id("short");
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kMalformedInput);

  r = valid_send();
  *r.mutable_send_message()->add_copies() = r.send_message().copies(0);
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kMalformedInput);  // same device twice

  r = valid_send();
  for (std::uint32_t d = 2; d <= limits.max_copies_per_send + 1; ++d) {
    auto* copy = r.mutable_send_message()->add_copies();
    copy->set_device_id(d);
    copy->set_ciphertext("c");
  }
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kTooLarge);

  r = valid_send();
  r.mutable_send_message()->clear_copies();
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kMalformedInput);
}

TEST(ValidateRequest, KeysAndSignaturesHaveExactSizes) {
  wire::Request r;
  auto* create = r.mutable_create_account();
  create->set_identity_key(std::string(kPublicKeySize, '\x05'));
  create->set_challenge(std::string(kChallengeSize, 'c'));
  create->set_signature(std::string(kSignatureSize, 's'));
  EXPECT_TRUE(validate_request(r, Limits{}).ok());
  create->set_identity_key(std::string(kPublicKeySize + 1, '\x05'));
  EXPECT_EQ(validate_request(r, Limits{}).code(), ErrorCode::kMalformedInput);
  create->set_identity_key(std::string(kPublicKeySize, '\x05'));
  create->set_signature("");
  EXPECT_EQ(validate_request(r, Limits{}).code(), ErrorCode::kMalformedInput);
  create->set_signature(std::string(kSignatureSize, 's'));
  create->set_username(std::string(65, 'u'));
  EXPECT_EQ(validate_request(r, Limits{}).code(), ErrorCode::kTooLarge);
}

TEST(ValidateRequest, PrekeyUploadCountAndDuplicates) {
  Limits limits;
  wire::Request r;
  auto* upload = r.mutable_upload_prekeys();
  for (std::uint32_t i = 0; i < limits.max_prekeys_per_upload; ++i) {
    auto* key = upload->add_one_time_prekeys();
    key->set_key_id(i);
    key->set_public_key(std::string(kPublicKeySize, '\x05'));
  }
  EXPECT_TRUE(validate_request(r, limits).ok());
  auto* extra = upload->add_one_time_prekeys();
  extra->set_key_id(100000);
  extra->set_public_key(std::string(kPublicKeySize, '\x05'));
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kTooLarge);
  upload->mutable_one_time_prekeys()->RemoveLast();
  upload->mutable_one_time_prekeys(1)->set_key_id(0);
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kMalformedInput);
}

TEST(ValidateRequest, AcksNeedNonZeroSeqsWithinTheLimit) {
  Limits limits;
  wire::Request r;
  EXPECT_EQ(validate_request(
                [&] {
                  r.mutable_ack_messages();
                  return r;
                }(),
                limits)
                .code(),
            ErrorCode::kMalformedInput);
  r.mutable_ack_messages()->add_seqs(0);
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kMalformedInput);
  r.mutable_ack_messages()->set_seqs(0, 5);
  EXPECT_TRUE(validate_request(r, limits).ok());
  for (std::size_t i = 0; i < limits.max_acks_per_request; ++i)
    r.mutable_ack_messages()->add_seqs(9);
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kTooLarge);
}

wire::Request valid_group_send() {
  wire::Request request;
  request.set_id(8);
  auto* send = request.mutable_send_group_message();
  send->set_client_message_id("group-message-0001");
  send->set_ciphertext("sender key message");
  for (char a : {'\x01', '\x02'}) {
    auto* recipient = send->add_recipients();
    recipient->set_account_id(std::string(kAccountIdSize, a));
    recipient->add_device_ids(1);
    recipient->add_device_ids(2);
  }
  return request;
}

TEST(ValidateRequest, GroupSendAcceptsAValidRequestThroughDecode) {
  DecodedRequest decoded = decode_request(encode_request(valid_group_send()), Limits{});
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.to_string();
  EXPECT_EQ(decoded.request.send_group_message().recipients_size(), 2);
  EXPECT_EQ(request_type_name(decoded.request), "send_group_message");
}

TEST(ValidateRequest, GroupSendFieldsAndCounts) {
  Limits limits;
  auto code = [&](const wire::Request& r) { return validate_request(r, limits).code(); };
  wire::Request r = valid_group_send();
  r.mutable_send_group_message()->set_ciphertext("");
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);
  r.mutable_send_group_message()->set_ciphertext(std::string(limits.max_ciphertext_bytes + 1, 'c'));
  EXPECT_EQ(code(r), ErrorCode::kTooLarge);

  r = valid_group_send();
  r.mutable_send_group_message()->set_client_message_id("short");
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);
  r.mutable_send_group_message()->set_client_message_id(std::string(65, 'm'));
  EXPECT_EQ(code(r), ErrorCode::kTooLarge);

  r = valid_group_send();
  r.mutable_send_group_message()->clear_recipients();
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);

  r = valid_group_send();
  r.mutable_send_group_message()->mutable_recipients(1)->set_account_id("short");
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);

  r = valid_group_send();  // the same account twice
  r.mutable_send_group_message()->mutable_recipients(1)->set_account_id(
      r.send_group_message().recipients(0).account_id());
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);

  r = valid_group_send();  // an account without devices
  r.mutable_send_group_message()->mutable_recipients(0)->clear_device_ids();
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);

  r = valid_group_send();  // device 0
  r.mutable_send_group_message()->mutable_recipients(0)->set_device_ids(1, 0);
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);

  r = valid_group_send();  // one device twice
  r.mutable_send_group_message()->mutable_recipients(0)->set_device_ids(1, 1);
  EXPECT_EQ(code(r), ErrorCode::kMalformedInput);

  r = valid_group_send();  // the same device id in two accounts is fine
  EXPECT_TRUE(validate_request(r, limits).ok());

  r = valid_group_send();  // too many devices for one account
  for (std::uint32_t d = 3; d <= limits.max_copies_per_send + 1; ++d) {
    r.mutable_send_group_message()->mutable_recipients(0)->add_device_ids(d);
  }
  EXPECT_EQ(code(r), ErrorCode::kTooLarge);
}

TEST(ValidateRequest, GroupSendRecipientAccountLimit) {
  Limits limits;
  limits.max_group_recipient_accounts = 3;
  wire::Request r = valid_group_send();
  auto* extra = r.mutable_send_group_message()->add_recipients();
  extra->set_account_id(std::string(kAccountIdSize, '\x03'));
  extra->add_device_ids(1);
  EXPECT_TRUE(validate_request(r, limits).ok());
  extra = r.mutable_send_group_message()->add_recipients();
  extra->set_account_id(std::string(kAccountIdSize, '\x04'));
  extra->add_device_ids(1);
  EXPECT_EQ(validate_request(r, limits).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(Limits{}.max_group_recipient_accounts, 1000u);
}

TEST(ValidateRequest, AttachmentRequests) {
  Limits limits;
  auto code = [&](const wire::Request& r) { return validate_request(r, limits).code(); };
  const std::string id(kAttachmentIdSize, 'a');

  wire::Request create;
  create.mutable_create_attachment()->set_size(0);
  EXPECT_EQ(code(create), ErrorCode::kMalformedInput);
  create.mutable_create_attachment()->set_size(1);
  EXPECT_EQ(code(create), ErrorCode::kOk);
  EXPECT_EQ(request_type_name(create), "create_attachment");

  wire::Request upload;
  auto* chunk = upload.mutable_upload_attachment_chunk();
  chunk->set_attachment_id(id);
  chunk->set_offset(12288);
  chunk->set_data(std::string(limits.max_attachment_chunk_bytes, 'd'));
  EXPECT_EQ(code(upload), ErrorCode::kOk);
  chunk->set_data(std::string(limits.max_attachment_chunk_bytes + 1, 'd'));
  EXPECT_EQ(code(upload), ErrorCode::kTooLarge);
  chunk->set_data("");
  EXPECT_EQ(code(upload), ErrorCode::kMalformedInput);
  chunk->set_data("d");
  chunk->set_attachment_id(id + "x");
  EXPECT_EQ(code(upload), ErrorCode::kMalformedInput);
  EXPECT_EQ(request_type_name(upload), "upload_attachment_chunk");

  wire::Request get;
  get.mutable_get_attachment()->set_attachment_id(id);
  EXPECT_EQ(code(get), ErrorCode::kOk);
  get.mutable_get_attachment()->set_attachment_id("");
  EXPECT_EQ(code(get), ErrorCode::kMalformedInput);
  EXPECT_EQ(request_type_name(get), "get_attachment");

  wire::Request download;
  auto* d = download.mutable_download_attachment_chunk();
  d->set_attachment_id(id);
  d->set_offset(0);
  d->set_max_bytes(static_cast<std::uint32_t>(limits.max_attachment_chunk_bytes));
  EXPECT_EQ(code(download), ErrorCode::kOk);
  d->set_max_bytes(static_cast<std::uint32_t>(limits.max_attachment_chunk_bytes + 1));
  EXPECT_EQ(code(download), ErrorCode::kTooLarge);
  d->set_max_bytes(0);
  EXPECT_EQ(code(download), ErrorCode::kMalformedInput);
  d->set_max_bytes(1);
  d->set_attachment_id(std::string(kAttachmentIdSize - 1, 'a'));
  EXPECT_EQ(code(download), ErrorCode::kMalformedInput);
  EXPECT_EQ(request_type_name(download), "download_attachment_chunk");
}

TEST(DecodeServerFrame, AcceptsResponsesAndPushesOnly) {
  Status error = Status::error(ErrorCode::kQueueFull, "mailbox of device 2 is full");
  auto decoded = decode_server_frame(encode_frame(response_frame(9, error)), Limits{});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->response().id(), 9u);
  EXPECT_EQ(decoded->response().status(), 403u);
  EXPECT_EQ(decoded->response().message(), "mailbox of device 2 is full");
  EXPECT_EQ(decode_server_frame(encode_request(valid_send()), Limits{}).status().code(),
            ErrorCode::kProtocolViolation);
}

TEST(ResponseFrame, FillsTheDescriptionWhenTheMessageIsEmpty) {
  wire::Frame frame = response_frame(1, Status::error(ErrorCode::kUnauthenticated));
  EXPECT_EQ(frame.response().message(), "the caller is not authenticated");
  EXPECT_EQ(response_frame(1, Status()).response().status(), 0u);
}

}  // namespace
}  // namespace parley::proto
