// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: what the receiver (receiver.cpp) does with a decrypted plaintext before it
// touches its database: strip the padding, parse the Content, and the pure checks each body gets
// on its way in (group states: parse_state; attachment pointers: the file-name sanitizer; group
// keys: the SenderKeyDistributionMessage parser). The same bytes are also read as the LinkProof
// that a joining device sends in the clear. Steps behind these (contacts, sessions, the store,
// the server) need Client::Impl and are covered by the GoogleTest suites, not here.
// Invariants: padding round-trips; a parsed Content re-encodes to one that parses the same.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "../src/attachment_files.h"
#include "../src/group_state.h"
#include "client_fixtures.h"
#include "parley/client/content.pb.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/padding.h"
#include "parley/util/error_code.h"

using namespace parley;
using namespace parley::client;

namespace {

void check_pointer(const content::AttachmentPointer& pointer) {
  const std::string name = attachment::sanitize_file_name(pointer.file_name());
  PARLEY_FUZZ_CHECK(!name.empty() && name.find('/') == std::string::npos &&
                    name.find('\\') == std::string::npos && name.front() != '.');
}

void check_text(const content::Text& text) {
  if (text.has_attachment()) check_pointer(text.attachment());
}

void check_body(const content::Content& content) {
  switch (content.body_case()) {
    case content::Content::kText:
      check_text(content.text());
      break;
    case content::Content::kSent:
      if (content.sent().has_text()) check_text(content.sent().text());
      break;
    case content::Content::kGroupUpdate: {
      auto state = groups::parse_state(as_bytes(content.group_update().state().state()));
      PARLEY_FUZZ_CHECK(state.ok() || state.status().code() == ErrorCode::kMalformedInput ||
                        state.status().code() == ErrorCode::kTooLarge);
      break;
    }
    case content::Content::kSenderKey:
      (void)crypto::SenderKeyDistributionMessage::parse(as_bytes(content.sender_key().message()));
      break;
    default:
      break;
  }
}

}  // namespace

// Protobuf logs every proto3 string with invalid UTF-8 it refuses; quiet, the fuzzer runs faster.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);

  content::LinkProof proof;
  if (proof.ParseFromArray(data, static_cast<int>(size))) {
    (void)proof.device_id();
    (void)proof.mac().size();
  }

  auto unpadded = crypto::unpad_message(in);
  if (!unpadded.ok()) {
    PARLEY_FUZZ_CHECK(unpadded.status().code() == ErrorCode::kMalformedInput);
    return 0;
  }
  PARLEY_FUZZ_CHECK(unpadded->size() < size);  // the marker at least was stripped
  auto padded = crypto::pad_message(unpadded->view());
  PARLEY_FUZZ_CHECK(padded.ok() && padded->size() % crypto::kPaddingBlock == 0);
  auto again = crypto::unpad_message(padded->view());
  PARLEY_FUZZ_CHECK(again.ok() && again->view().size() == unpadded->view().size() &&
                    as_string_view(again->view()) == as_string_view(unpadded->view()));

  content::Content content;
  if (!content.ParseFromArray(unpadded->data(), static_cast<int>(unpadded->size()))) return 0;
  check_body(content);
  const std::string encoded = content.SerializeAsString();
  content::Content reparsed;
  PARLEY_FUZZ_CHECK(reparsed.ParseFromString(encoded));
  PARLEY_FUZZ_CHECK(reparsed.SerializeAsString() == encoded);
  return 0;
}
