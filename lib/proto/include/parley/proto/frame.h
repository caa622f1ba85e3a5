// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Decoding, validating and encoding client <-> server frames (schema: proto/parley/wire/
// frame.proto). These functions are pure: no I/O, no clock, no global state, so a fuzzer can call
// them with any bytes. Every limit they enforce comes from Limits (limits.h).

#include <cstdint>
#include <memory>
#include <string_view>

#include "parley/proto/limits.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"
#include "parley/wire/frame.pb.h"

namespace parley::proto {

// What the server makes of one frame from a client.
struct DecodedRequest {
  // ok, or why the frame is refused: kTooLarge (frame or field over its limit), kMalformedInput
  // (not a Frame, no request body, a field of the wrong size, duplicates where ids must be
  // unique), kUnsupportedVersion, kProtocolViolation (a response or push sent by a client).
  // Every refusal means: answer with this status, then close the connection.
  Status status;
  // The request's id when the frame could be parsed far enough to read it, else 0.
  std::uint64_t request_id = 0;
  wire::Request request;  // valid only when status is ok
};

// Size check, parse, version check, kind check and per-field validation of a client frame.
DecodedRequest decode_request(ByteView frame, const Limits& limits);

// Per-field checks of a parsed request (part of decode_request; exposed for tests).
Status validate_request(const wire::Request& request, const Limits& limits);

// A server frame as a client receives it: size, parse, version and kind (response or push).
Result<wire::Frame> decode_server_frame(ByteView frame, const Limits& limits);

// Encoding. The version field is filled in.
Bytes encode_frame(wire::Frame frame);
std::shared_ptr<const Bytes> encode_shared(wire::Frame frame);

// Frame helpers.
wire::Frame request_frame(wire::Request request);
wire::Frame push_frame(wire::Push push);
// A response with `status` (0 = ok) and `message`; the caller sets the body if any. Messages over
// limits.max_error_message_bytes are cut.
wire::Frame response_frame(std::uint64_t request_id, const Status& status);

// The name of a request's body case ("send_message"), for metrics and logs; "none" when unset.
std::string_view request_type_name(const wire::Request& request);

}  // namespace parley::proto
