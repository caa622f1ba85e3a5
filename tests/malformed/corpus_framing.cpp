// SPDX-License-Identifier: AGPL-3.0-or-later
// Frames that fail before any handler runs: not protobuf, truncated, wrong version, wrong kind,
// no body, oversize. Every one is answered (id 0 unless the request id was readable) and closed.
#include <algorithm>

#include "corpus.h"
#include "parley/crypto/keys.h"

namespace parley::testing {
namespace {

// Raw protobuf writing, for frames the generated code cannot produce.
void put_varint(Bytes& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

void put_key(Bytes& out, std::uint32_t field, std::uint32_t wire_type) {
  put_varint(out, (std::uint64_t{field} << 3) | wire_type);
}

void put_bytes(Bytes& out, std::uint32_t field, ByteView value) {
  put_key(out, field, 2);
  put_varint(out, value.size());
  append(out, value);
}

Bytes ping_request_bytes(std::uint64_t id) {
  wire::Request r;
  r.set_id(id);
  r.mutable_ping();
  return to_bytes(r.SerializeAsString());
}

// Frame { version, request = <raw request bytes> }.
Bytes frame_with_raw_request(std::uint64_t version, ByteView request) {
  Bytes out;
  put_key(out, 1, 0);
  put_varint(out, version);
  put_bytes(out, 2, request);
  return out;
}

Bytes ping_frame() {
  wire::Request r;
  r.mutable_ping();
  return frame_of(r);
}

// A ping frame padded with an unknown top-level field to exactly `total` bytes.
Bytes padded_ping(std::size_t total) {
  Bytes base = ping_frame();
  for (std::size_t pad = total - base.size() - 4;; ++pad) {
    Bytes out = base;
    put_bytes(out, 15, Bytes(pad, 0xAB));
    if (out.size() == total) return out;
    if (out.size() > total) {
      // The length varint grew by one byte: shrink the padding instead.
      out = base;
      put_bytes(out, 15, Bytes(pad - 2, 0xAB));
      if (out.size() == total) return out;
    }
  }
}

Case closes(std::string name, std::function<Bytes(CaseContext&)> build, ErrorCode expected) {
  return Case{std::move(name), State::kFresh, std::move(build), expected, After::kClose};
}

// Valid frames of several request kinds, to cut at many points.
std::vector<std::pair<std::string, Bytes>> frames_to_truncate() {
  std::vector<std::pair<std::string, Bytes>> out;
  wire::Request r;
  r.set_id(0x1234567890ULL);
  r.mutable_registration_challenge();
  out.emplace_back("registration_challenge", frame_of(r));

  crypto::KeyPair key = crypto::KeyPair::generate();
  r.Clear();
  auto* create = r.mutable_create_account();
  create->set_identity_key(str(key.public_key.serialize()));
  create->set_registration_id(99);
  create->set_challenge(random_field(32));
  create->set_pow_nonce("12345678");
  create->set_signature(random_field(64));
  create->set_username("truncated_name");
  out.emplace_back("create_account", frame_of(r));

  r.Clear();
  auto* auth = r.mutable_authenticate();
  auth->set_account_id(random_field(16));
  auth->set_device_id(1);
  auth->set_challenge(random_field(32));
  auth->set_signature(random_field(64));
  out.emplace_back("authenticate", frame_of(r));

  r.Clear();
  auto* send = r.mutable_send_message();
  send->set_recipient_account_id(random_field(16));
  send->set_client_message_id("message-id-0001");
  for (std::uint32_t d = 1; d <= 3; ++d) {
    auto* copy = send->add_copies();
    copy->set_device_id(d);
    copy->set_ciphertext(filler(150, 'c'));
  }
  out.emplace_back("send_message", frame_of(r));

  r.Clear();
  auto* group = r.mutable_send_group_message();
  group->set_client_message_id("group-message-01");
  group->set_ciphertext(filler(40, 'g'));
  for (int i = 0; i < 3; ++i) {
    auto* member = group->add_recipients();
    member->set_account_id(random_field(16));
    member->add_device_ids(1);
    member->add_device_ids(2);
  }
  out.emplace_back("send_group_message", frame_of(r));

  r.Clear();
  auto* chunk = r.mutable_upload_attachment_chunk();
  chunk->set_attachment_id(random_field(16));
  chunk->set_offset(12288);
  chunk->set_data(filler(300, 'd'));
  out.emplace_back("upload_attachment_chunk", frame_of(r));

  r.Clear();
  auto* upload = r.mutable_upload_prekeys();
  upload->mutable_signed_prekey()->set_key_id(1);
  upload->mutable_signed_prekey()->set_public_key(str(key.public_key.serialize()));
  upload->mutable_signed_prekey()->set_signature(random_field(64));
  for (std::uint32_t id = 1; id <= 3; ++id) {
    auto* otk = upload->add_one_time_prekeys();
    otk->set_key_id(id);
    otk->set_public_key(str(key.public_key.serialize()));
  }
  out.emplace_back("upload_prekeys", frame_of(r));

  r.Clear();
  for (std::uint64_t seq = 1; seq <= 40; ++seq) r.mutable_ack_messages()->add_seqs(seq * 1000);
  out.emplace_back("ack_messages", frame_of(r));

  r.Clear();
  auto* download = r.mutable_download_attachment_chunk();
  download->set_attachment_id(random_field(16));
  download->set_offset(1);
  download->set_max_bytes(4096);
  out.emplace_back("download_attachment_chunk", frame_of(r));
  return out;
}

}  // namespace

void add_framing_cases(std::vector<Case>& cases) {
  using E = ErrorCode;
  // ---- Not protobuf -------------------------------------------------------------------------
  cases.push_back(closes(
      "zero-length message is version 0", [](CaseContext&) { return Bytes{}; },
      E::kUnsupportedVersion));
  cases.push_back(closes(
      "one 0xFF byte", [](CaseContext&) { return Bytes{0xFF}; }, E::kMalformedInput));
  cases.push_back(closes(
      "ascii text", [](CaseContext&) { return to_bytes("hello, server"); }, E::kMalformedInput));
  cases.push_back(closes(
      "json request",
      [](CaseContext&) { return to_bytes(R"({"version":1,"request":{"id":1,"ping":{}}})"); },
      E::kMalformedInput));
  cases.push_back(closes(
      "http request line",
      [](CaseContext&) { return to_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"); },
      E::kMalformedInput));
  cases.push_back(closes(
      "1 KiB of 0xFF", [](CaseContext&) { return Bytes(1024, 0xFF); }, E::kMalformedInput));
  cases.push_back(closes(
      "random bytes with an invalid wire type 7",
      [](CaseContext&) {
        return Bytes{0x0F, 0x01, 0x02, 0x03};
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "field number 0",
      [](CaseContext&) {
        return Bytes{0x00, 0x01};
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "11-byte varint for the version",
      [](CaseContext&) {
        Bytes out{0x08};
        for (int i = 0; i < 10; ++i) out.push_back(0xFF);
        out.push_back(0x01);
        return out;
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "request length larger than the frame",
      [](CaseContext&) { return Bytes{0x08, 0x01, 0x12, 0x7F, 0x08, 0x01}; }, E::kMalformedInput));
  cases.push_back(closes(
      "request length varint of 2^63",
      [](CaseContext&) {
        Bytes out{0x08, 0x01, 0x12};
        put_varint(out, std::uint64_t{1} << 63);
        return out;
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "unterminated start-group",
      [](CaseContext&) {
        Bytes out{0x08, 0x01};
        put_key(out, 9, 3);  // start group 9, never ended
        return out;
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "end-group without start",
      [](CaseContext&) {
        Bytes out{0x08, 0x01};
        put_key(out, 9, 4);
        return out;
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "request body is not protobuf",
      [](CaseContext&) {
        return frame_with_raw_request(1, Bytes{0xFF, 0xFF, 0xFF});
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "ping body is truncated inside the request",
      [](CaseContext&) {
        // Request { id = 5, ping = <length 3, but only 1 byte> } wrapped with a correct length.
        return frame_with_raw_request(1, Bytes{0x08, 0x05, 0x52, 0x03, 0x00});
      },
      E::kMalformedInput));

  // ---- Version ------------------------------------------------------------------------------
  auto with_version = [](std::uint64_t version) {
    return [version](CaseContext&) {
      return frame_with_raw_request(version, ping_request_bytes(501));
    };
  };
  cases.push_back(closes("version 0 with a valid ping", with_version(0), E::kUnsupportedVersion));
  cases.push_back(closes("version 2", with_version(2), E::kUnsupportedVersion));
  cases.push_back(closes("version 255", with_version(255), E::kUnsupportedVersion));
  cases.push_back(closes("version 2^32-1", with_version(0xFFFFFFFFu), E::kUnsupportedVersion));
  cases.push_back(closes("version 2^32+1 (truncated to 1 by uint32 parsing)",
                         with_version((std::uint64_t{1} << 32) + 1), E::kOk));
  cases.back().after = After::kOpen;  // uint32 fields keep the low 32 bits: version 1, a ping
  cases.push_back(closes(
      "version sent as a length-delimited field is version 0",
      [](CaseContext&) {
        Bytes out;
        put_bytes(out, 1, Bytes{0x01});
        put_bytes(out, 2, ping_request_bytes(502));
        return out;
      },
      E::kUnsupportedVersion));
  cases.push_back(closes(
      "version missing",
      [](CaseContext&) {
        Bytes out;
        put_bytes(out, 2, ping_request_bytes(503));
        return out;
      },
      E::kUnsupportedVersion));

  // ---- Wrong kind ---------------------------------------------------------------------------
  cases.push_back(closes(
      "client sends a response",
      [](CaseContext&) {
        wire::Frame f = proto::response_frame(9, Status());
        f.mutable_response()->mutable_ping()->set_server_time_ms(1);
        return proto::encode_frame(std::move(f));
      },
      E::kProtocolViolation));
  cases.push_back(closes(
      "client sends an error response",
      [](CaseContext&) {
        return proto::encode_frame(
            proto::response_frame(10, Status::error(ErrorCode::kInternal, "x")));
      },
      E::kProtocolViolation));
  cases.push_back(closes(
      "client sends a push",
      [](CaseContext&) {
        wire::Push push;
        push.mutable_queue_empty();
        return proto::encode_frame(proto::push_frame(std::move(push)));
      },
      E::kProtocolViolation));
  cases.push_back(closes(
      "client pushes a message envelope",
      [](CaseContext&) {
        wire::Push push;
        push.mutable_message()->set_seq(1);
        push.mutable_message()->set_ciphertext("forged");
        return proto::encode_frame(proto::push_frame(std::move(push)));
      },
      E::kProtocolViolation));
  cases.push_back(closes(
      "frame with a version only",
      [](CaseContext&) {
        return Bytes{0x08, 0x01};
      },
      E::kProtocolViolation));
  cases.push_back(closes(
      "frame with only an unknown field",
      [](CaseContext&) {
        Bytes out{0x08, 0x01};
        put_bytes(out, 9, to_bytes("future"));
        return out;
      },
      E::kProtocolViolation));

  // ---- Request without a (known) body -------------------------------------------------------
  cases.push_back(closes(
      "request without a body",
      [](CaseContext&) {
        wire::Request r;
        r.set_id(601);
        return frame_of(r);
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "request with an unknown body number 99",
      [](CaseContext&) {
        Bytes request;
        put_key(request, 1, 0);
        put_varint(request, 602);
        put_bytes(request, 99, Bytes{});
        return frame_with_raw_request(1, request);
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "ping body sent as a varint (wrong wire type)",
      [](CaseContext&) {
        Bytes request;
        put_key(request, 1, 0);
        put_varint(request, 603);
        put_key(request, 10, 0);
        put_varint(request, 1);
        return frame_with_raw_request(1, request);
      },
      E::kMalformedInput));
  cases.push_back(closes(
      "empty request message", [](CaseContext&) { return frame_with_raw_request(1, Bytes{}); },
      E::kMalformedInput));

  // ---- Accepted oddities (the server must answer them normally) ------------------------------
  cases.push_back(Case{"ping with id 2^64-1", State::kFresh,
                       [](CaseContext&) {
                         wire::Request r;
                         r.set_id(~std::uint64_t{0});
                         r.mutable_ping();
                         return frame_of(r);
                       },
                       E::kOk, After::kOpen});
  cases.push_back(Case{"ping with unknown fields in Frame, Request and body", State::kFresh,
                       [](CaseContext&) {
                         Bytes ping_body;
                         put_bytes(ping_body, 7, to_bytes("ignored"));
                         Bytes request;
                         put_key(request, 1, 0);
                         put_varint(request, 604);
                         put_bytes(request, 10, ping_body);
                         put_bytes(request, 200, to_bytes("ignored too"));
                         Bytes out = frame_with_raw_request(1, request);
                         put_bytes(out, 12, to_bytes("and this"));
                         return out;
                       },
                       E::kOk, After::kOpen});
  cases.push_back(Case{"two request fields merge: the last body wins", State::kFresh,
                       [](CaseContext&) {
                         wire::Request second;
                         second.set_id(606);
                         second.mutable_auth_challenge();
                         Bytes out = frame_with_raw_request(1, ping_request_bytes(605));
                         put_bytes(out, 2, to_bytes(second.SerializeAsString()));
                         return out;
                       },
                       E::kOk, After::kOpen});

  // ---- Frame size (the gateway closes with 1009 without an answer) ---------------------------
  cases.push_back(Case{"frame of exactly 256 KiB is read", State::kFresh,
                       [](CaseContext&) { return padded_ping(256UL * 1024); }, E::kOk,
                       After::kOpen});
  cases.push_back(Case{"frame of 256 KiB + 1", State::kFresh,
                       [](CaseContext&) { return padded_ping(256 * 1024 + 1); }, E::kTooLarge,
                       After::kCloseNoAnswer});
  cases.push_back(Case{"frame of 1 MiB of zeros", State::kFresh,
                       [](CaseContext&) { return Bytes(1 << 20, 0); }, E::kTooLarge,
                       After::kCloseNoAnswer});

  // ---- Truncations of valid frames at many cut points ---------------------------------------
  // A Frame is [08 01][12 <length> <request>]. Cut at 0 it is empty (version 0: 202); cut at 2
  // it is a Frame without a kind (500); any other cut breaks a varint or the request's length
  // (200). The id is unreadable in all of them, so the answer carries id 0.
  auto expected_for_cut = [](std::size_t cut) {
    if (cut == 0) return E::kUnsupportedVersion;
    if (cut == 2) return E::kProtocolViolation;
    return E::kMalformedInput;
  };
  Bytes ping = ping_frame();
  for (std::size_t cut = 0; cut < ping.size(); ++cut) {
    cases.push_back(closes(
        "ping truncated to " + std::to_string(cut) + " bytes",
        [ping, cut](CaseContext&) {
          return Bytes(ping.begin(), ping.begin() + static_cast<std::ptrdiff_t>(cut));
        },
        expected_for_cut(cut)));
  }
  for (const auto& [name, frame] : frames_to_truncate()) {
    // Cuts 0..3 are the same bytes for every frame (covered by the ping above); then a spread.
    std::vector<std::size_t> cuts = {4,
                                     5,
                                     6,
                                     7,
                                     frame.size() / 4,
                                     frame.size() / 3,
                                     frame.size() / 2,
                                     frame.size() * 2 / 3,
                                     frame.size() - 2,
                                     frame.size() - 1};
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (std::size_t cut : cuts) {
      if (cut < 4 || cut >= frame.size()) continue;
      Bytes bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(cut));
      cases.push_back(closes(
          name + " truncated to " + std::to_string(cut) + " of " + std::to_string(frame.size()) +
              " bytes",
          [bytes](CaseContext&) { return bytes; }, expected_for_cut(cut)));
    }
  }
}

}  // namespace parley::testing
