// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: proto::decode_request on any bytes. Whatever it accepts must re-encode and
// decode to the same request (no state the validator missed).
#include <cstdint>
#include <cstdlib>

#include "parley/proto/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace parley;
  proto::Limits limits;
  proto::DecodedRequest decoded = proto::decode_request(ByteView(data, size), limits);
  if (!decoded.status.ok()) {
    if (decoded.status.code() == ErrorCode::kOk) std::abort();
    return 0;
  }
  if (!proto::validate_request(decoded.request, limits).ok()) std::abort();
  Bytes again = proto::encode_frame(proto::request_frame(decoded.request));
  proto::DecodedRequest round = proto::decode_request(again, limits);
  if (!round.status.ok() ||
      round.request.SerializeAsString() != decoded.request.SerializeAsString()) {
    std::abort();
  }
  (void)proto::decode_server_frame(ByteView(data, size), limits);
  return 0;
}
