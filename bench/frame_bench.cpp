// SPDX-License-Identifier: AGPL-3.0-or-later
// parley_server_bench, frames: the server's decode of a client request and encode of a delivery
// push, each next to bare protobuf doing the same job (registered in server_bench.cpp).
//
//   Parley_DecodeRequest/N vs Protobuf_ParseFrame/N (N = 1, 16)
//   Parley_EncodePush vs Protobuf_SerializePush
#include <memory>
#include <string>
#include <utility>

#include "parley/crypto/random.h"
#include "parley/proto/frame.h"
#include "parley/store/records.h"
#include "server_bench.h"
#include "server_bench_support.h"

namespace parley::bench {
namespace {

// A SendMessage frame as a client sends it: 16-byte recipient, 16-byte client message id, one
// 300-byte random ciphertext per device 1..copies.
Bytes send_message_frame(int copies) {
  wire::Request request;
  request.set_id(42);
  auto* send = request.mutable_send_message();
  send->set_recipient_account_id(to_field(crypto::random_bytes(proto::kAccountIdSize)));
  send->set_client_message_id(to_field(crypto::random_bytes(16)));
  for (int device = 1; device <= copies; ++device) {
    auto* copy = send->add_copies();
    copy->set_device_id(static_cast<std::uint32_t>(device));
    copy->set_ciphertext(to_field(crypto::random_bytes(kCiphertextBytes)));
  }
  return proto::encode_frame(proto::request_frame(std::move(request)));
}

// What the server holds when it pushes one message to a device.
store::StoredEnvelope sample_envelope() {
  store::StoredEnvelope envelope;
  envelope.seq = 123456;
  envelope.sender = store::DeviceAddress{random_account_id(), 2};
  envelope.timestamp_ms = 1767225600000;
  envelope.payload = crypto::random_bytes(kCiphertextBytes);
  return envelope;
}

// The same bytes both encoders must produce (checked once per run).
bool same_push(const Bytes& encoded, const store::StoredEnvelope& envelope) {
  auto decoded = proto::decode_server_frame(encoded, proto::Limits{});
  if (!decoded.ok() || !decoded->has_push() || !decoded->push().has_message()) return false;
  const wire::Envelope& m = decoded->push().message();
  return m.seq() == envelope.seq && m.ciphertext() == as_string_view(envelope.payload) &&
         m.sender_device_id() == envelope.sender->device_id;
}

// As ServerCore::Impl::push_envelope_locked builds it.
std::shared_ptr<const Bytes> parley_encode_push(const store::StoredEnvelope& envelope) {
  wire::Push push;
  auto* message = push.mutable_message();
  message->set_seq(envelope.seq);
  message->set_sender_account_id(to_field(envelope.sender->account_id));
  message->set_sender_device_id(envelope.sender->device_id);
  message->set_timestamp_ms(envelope.timestamp_ms);
  message->set_ciphertext(to_field(envelope.payload));
  return proto::encode_shared(proto::push_frame(std::move(push)));
}

std::string bare_encode_push(const store::StoredEnvelope& envelope) {
  wire::Frame frame;
  frame.set_version(proto::kProtocolVersion);
  auto* message = frame.mutable_push()->mutable_message();
  message->set_seq(envelope.seq);
  message->set_sender_account_id(to_field(envelope.sender->account_id));
  message->set_sender_device_id(envelope.sender->device_id);
  message->set_timestamp_ms(envelope.timestamp_ms);
  message->set_ciphertext(to_field(envelope.payload));
  std::string out;
  frame.SerializeToString(&out);
  return out;
}

}  // namespace

void BM_Parley_DecodeRequest(benchmark::State& state) {
  const int copies = static_cast<int>(state.range(0));
  const Bytes frame = send_message_frame(copies);
  const proto::Limits limits;
  {
    proto::DecodedRequest check = proto::decode_request(frame, limits);
    if (!check.status.ok() || check.request.send_message().copies_size() != copies) {
      state.SkipWithError(("decode_request failed: " + check.status.to_string()).c_str());
      return;
    }
  }
  for (auto _ : state) {
    proto::DecodedRequest decoded = proto::decode_request(frame, limits);
    if (!decoded.status.ok()) {
      state.SkipWithError(decoded.status.to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}

void BM_Protobuf_ParseFrame(benchmark::State& state) {
  const int copies = static_cast<int>(state.range(0));
  const Bytes frame = send_message_frame(copies);
  {
    wire::Frame check;
    if (!check.ParseFromArray(frame.data(), static_cast<int>(frame.size())) ||
        check.request().send_message().copies_size() != copies) {
      state.SkipWithError("ParseFromArray failed");
      return;
    }
  }
  for (auto _ : state) {
    wire::Frame parsed;
    if (!parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
      state.SkipWithError("ParseFromArray failed");
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}

void BM_Parley_EncodePush(benchmark::State& state) {
  const store::StoredEnvelope envelope = sample_envelope();
  if (!same_push(*parley_encode_push(envelope), envelope)) {
    state.SkipWithError("parley encoder produced a wrong push");
    return;
  }
  for (auto _ : state) {
    auto frame = parley_encode_push(envelope);
    benchmark::DoNotOptimize(frame);
  }
}

void BM_Protobuf_SerializePush(benchmark::State& state) {
  const store::StoredEnvelope envelope = sample_envelope();
  std::string check = bare_encode_push(envelope);
  if (!same_push(Bytes(check.begin(), check.end()), envelope)) {
    state.SkipWithError("bare encoder produced a wrong push");
    return;
  }
  for (auto _ : state) {
    std::string frame = bare_encode_push(envelope);
    benchmark::DoNotOptimize(frame);
  }
}

}  // namespace parley::bench
