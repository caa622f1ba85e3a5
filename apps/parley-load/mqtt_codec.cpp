// SPDX-License-Identifier: AGPL-3.0-or-later
#include "mqtt_codec.h"

#include <limits>

namespace parley::load::mqtt {
namespace {

constexpr std::size_t kMaxStringBytes = std::numeric_limits<std::uint16_t>::max();
constexpr std::string_view kProtocolName = "MQTT";
constexpr std::uint8_t kProtocolLevel = 4;  // 3.1.1

// CONNECT flags (spec 3.1.2.3).
constexpr std::uint8_t kFlagUsername = 0x80;
constexpr std::uint8_t kFlagPassword = 0x40;
constexpr std::uint8_t kFlagWill = 0x04;
constexpr std::uint8_t kFlagWillBits = 0x38;  // will retain + will QoS
constexpr std::uint8_t kFlagCleanSession = 0x02;
constexpr std::uint8_t kFlagReserved = 0x01;

Status malformed(const char* what) {
  return Status::error(ErrorCode::kMalformedInput, what);
}

std::uint8_t first_byte(PacketType type, std::uint8_t flags) {
  return static_cast<std::uint8_t>((static_cast<std::uint8_t>(type) << 4) | flags);
}

std::size_t remaining_length_bytes(std::size_t length) {
  std::size_t n = 1;
  while (length >= 128) {
    length >>= 7;
    ++n;
  }
  return n;
}

void append_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xFF));
}

Status append_string(std::string& out, std::string_view text) {
  if (text.size() > kMaxStringBytes) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT string longer than 65535 bytes");
  }
  append_u16(out, static_cast<std::uint16_t>(text.size()));
  out.append(text);
  return {};
}

// Builds fixed header + body; the body is made first so its length is known.
Result<std::string> with_header(std::uint8_t first, const std::string& body) {
  std::string out;
  out.reserve(1 + remaining_length_bytes(body.size()) + body.size());
  out.push_back(static_cast<char>(first));
  PARLEY_RETURN_IF_ERROR(append_remaining_length(out, body.size()));
  out.append(body);
  return out;
}

bool has_wildcard(std::string_view topic) {
  return topic.find_first_of("+#") != std::string_view::npos;
}

// Reads a body field by field; every read checks the bytes are there.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : rest_(body) {}

  bool u8(std::uint8_t& value) {
    if (rest_.empty()) return false;
    value = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }
  bool u16(std::uint16_t& value) {
    if (rest_.size() < 2) return false;
    value = static_cast<std::uint16_t>((static_cast<std::uint8_t>(rest_[0]) << 8) |
                                       static_cast<std::uint8_t>(rest_[1]));
    rest_.remove_prefix(2);
    return true;
  }
  // A length-prefixed string or binary field (spec 1.5.3; the password is binary data, 3.1.3.5).
  bool string(std::string_view& value) {
    std::uint16_t length = 0;
    if (!u16(length) || rest_.size() < length) return false;
    value = rest_.substr(0, length);
    rest_.remove_prefix(length);
    return true;
  }
  std::string_view rest() const { return rest_; }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// UTF-8 strings in MQTT must not hold U+0000 (spec 1.5.3, MQTT-1.5.3-2). Full UTF-8 validation is
// the broker's job; a load generator only needs to refuse what would desynchronize it.
bool valid_text(std::string_view text) {
  return text.find('\0') == std::string_view::npos;
}

Status check_type(const Packet& packet, PacketType expected, std::uint8_t expected_flags) {
  if (packet.type() != expected) {
    return Status::error(ErrorCode::kFailedPrecondition, "MQTT packet of another type");
  }
  if (packet.flags() != expected_flags) return malformed("MQTT fixed-header flags are reserved");
  return {};
}

}  // namespace

// ---- encoding ------------------------------------------------------------------------------

Status append_remaining_length(std::string& out, std::size_t length) {
  if (length > kMaxRemainingLength) {
    return Status::error(ErrorCode::kTooLarge, "MQTT packet over 268435455 bytes");
  }
  do {
    auto byte = static_cast<std::uint8_t>(length % 128);
    length /= 128;
    if (length > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (length > 0);
  return {};
}

Result<std::string> encode_connect(const Connect& connect) {
  if (connect.password && !connect.username) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT password without a user name");
  }
  std::string body;
  body.reserve(16 + connect.client_id.size());
  PARLEY_RETURN_IF_ERROR(append_string(body, kProtocolName));
  body.push_back(static_cast<char>(kProtocolLevel));
  std::uint8_t flags = 0;
  if (connect.username) flags |= kFlagUsername;
  if (connect.password) flags |= kFlagPassword;
  if (connect.clean_session) flags |= kFlagCleanSession;
  body.push_back(static_cast<char>(flags));
  append_u16(body, connect.keepalive_seconds);
  PARLEY_RETURN_IF_ERROR(append_string(body, connect.client_id));
  if (connect.username) PARLEY_RETURN_IF_ERROR(append_string(body, *connect.username));
  if (connect.password) PARLEY_RETURN_IF_ERROR(append_string(body, *connect.password));
  return with_header(first_byte(PacketType::kConnect, 0), body);
}

std::string encode_connack(const Connack& connack) {
  return {static_cast<char>(first_byte(PacketType::kConnack, 0)), 2,
          static_cast<char>(connack.session_present ? 1 : 0),
          static_cast<char>(connack.return_code)};
}

Status append_publish(std::string& out, std::string_view topic, std::string_view payload,
                      std::uint8_t qos, bool dup, std::uint16_t packet_id) {
  if (qos > 1) return Status::error(ErrorCode::kInvalidArgument, "MQTT QoS 2 is not supported");
  if (dup && qos == 0) return Status::error(ErrorCode::kInvalidArgument, "MQTT DUP with QoS 0");
  if (qos == 1 && packet_id == 0) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT packet id 0");
  }
  if (topic.empty() || has_wildcard(topic)) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT topic name empty or with wildcards");
  }
  if (topic.size() > kMaxStringBytes) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT string longer than 65535 bytes");
  }
  const std::size_t length = 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size();
  if (length > kMaxRemainingLength) {
    return Status::error(ErrorCode::kTooLarge, "MQTT packet over 268435455 bytes");
  }
  const auto flags = static_cast<std::uint8_t>((dup ? 0x08 : 0) | (qos << 1));
  out.reserve(out.size() + 1 + remaining_length_bytes(length) + length);
  out.push_back(static_cast<char>(first_byte(PacketType::kPublish, flags)));
  PARLEY_RETURN_IF_ERROR(append_remaining_length(out, length));
  PARLEY_RETURN_IF_ERROR(append_string(out, topic));
  if (qos > 0) append_u16(out, packet_id);
  out.append(payload);
  return {};
}

Result<std::string> encode_publish(const Publish& publish) {
  std::string out;
  PARLEY_RETURN_IF_ERROR(append_publish(out, publish.topic, publish.payload, publish.qos,
                                        publish.dup, publish.packet_id));
  if (publish.retain) out[0] = static_cast<char>(out[0] | 0x01);
  return out;
}

void append_puback(std::string& out, std::uint16_t packet_id) {
  out.push_back(static_cast<char>(first_byte(PacketType::kPuback, 0)));
  out.push_back(2);
  append_u16(out, packet_id);
}

std::string encode_puback(std::uint16_t packet_id) {
  std::string out;
  append_puback(out, packet_id);
  return out;
}

Result<std::string> encode_subscribe(const Subscribe& subscribe) {
  if (subscribe.packet_id == 0) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT packet id 0");
  }
  if (subscribe.subscriptions.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "MQTT SUBSCRIBE without topics");
  }
  std::string body;
  append_u16(body, subscribe.packet_id);
  for (const auto& subscription : subscribe.subscriptions) {
    if (subscription.qos > 2 || subscription.topic_filter.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "MQTT subscription invalid");
    }
    PARLEY_RETURN_IF_ERROR(append_string(body, subscription.topic_filter));
    body.push_back(static_cast<char>(subscription.qos));
  }
  // SUBSCRIBE's fixed-header flags are 0010 (spec 3.8.1).
  return with_header(first_byte(PacketType::kSubscribe, 0x02), body);
}

std::string encode_suback(const Suback& suback) {
  std::string body;
  append_u16(body, suback.packet_id);
  for (std::uint8_t code : suback.return_codes) body.push_back(static_cast<char>(code));
  // A SUBACK holds one byte per subscription of a SUBSCRIBE, which itself fits the varint.
  auto out = with_header(first_byte(PacketType::kSuback, 0), body);
  return out.ok() ? std::move(out).value() : std::string();
}

std::string encode_pingreq() {
  return {static_cast<char>(first_byte(PacketType::kPingreq, 0)), 0};
}
std::string encode_pingresp() {
  return {static_cast<char>(first_byte(PacketType::kPingresp, 0)), 0};
}
std::string encode_disconnect() {
  return {static_cast<char>(first_byte(PacketType::kDisconnect, 0)), 0};
}

// ---- reading the stream --------------------------------------------------------------------

void PacketReader::feed(std::string_view bytes) {
  if (failed_) return;
  // Drop what was consumed before growing, so the buffer stays near one packet plus one read.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<Packet>> PacketReader::next() {
  if (failed_) return *failed_;
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (pending.empty()) return std::optional<Packet>();

  const auto first = static_cast<std::uint8_t>(pending[0]);
  const auto type = first >> 4;
  if (type == 0 || type == 15) {
    failed_ = malformed("MQTT reserved packet type");
    return *failed_;
  }
  // Remaining Length: at most four bytes (spec 2.2.3); a fifth continuation is malformed.
  std::size_t length = 0;
  std::size_t multiplier = 1;
  std::size_t header_bytes = 1;
  for (;;) {
    if (header_bytes >= pending.size()) return std::optional<Packet>();  // need more
    const auto byte = static_cast<std::uint8_t>(pending[header_bytes]);
    ++header_bytes;
    length += (byte & 0x7F) * multiplier;
    if ((byte & 0x80) == 0) break;
    if (header_bytes == 5) {
      failed_ = malformed("MQTT Remaining Length longer than four bytes");
      return *failed_;
    }
    multiplier *= 128;
  }
  if (length > max_packet_bytes_ || header_bytes + length > max_packet_bytes_) {
    failed_ = Status::error(ErrorCode::kTooLarge, "MQTT packet over the reader's limit");
    return *failed_;
  }
  if (pending.size() - header_bytes < length) return std::optional<Packet>();

  Packet packet;
  packet.first_byte = first;
  packet.body.assign(pending.substr(header_bytes, length));
  consumed_ += header_bytes + length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return std::optional<Packet>(std::move(packet));
}

// ---- decoding bodies -----------------------------------------------------------------------

Result<Connect> decode_connect(const Packet& packet) {
  PARLEY_RETURN_IF_ERROR(check_type(packet, PacketType::kConnect, 0));
  BodyReader in(packet.body);
  std::string_view name;
  std::uint8_t level = 0;
  std::uint8_t flags = 0;
  Connect connect;
  if (!in.string(name) || !in.u8(level) || !in.u8(flags) || !in.u16(connect.keepalive_seconds)) {
    return malformed("MQTT CONNECT truncated");
  }
  if (name != kProtocolName) return malformed("MQTT CONNECT protocol name");
  if (level != kProtocolLevel) {
    return Status::error(ErrorCode::kUnsupportedVersion, "MQTT protocol level not 3.1.1");
  }
  if ((flags & kFlagReserved) != 0) return malformed("MQTT CONNECT reserved flag set");
  if ((flags & kFlagWill) == 0 && (flags & kFlagWillBits) != 0) {
    return malformed("MQTT CONNECT will flags without a will");
  }
  if ((flags & kFlagPassword) != 0 && (flags & kFlagUsername) == 0) {
    return malformed("MQTT CONNECT password without a user name");
  }
  connect.clean_session = (flags & kFlagCleanSession) != 0;
  std::string_view field;
  if (!in.string(field)) return malformed("MQTT CONNECT truncated");
  if (!valid_text(field)) return malformed("MQTT CONNECT client id");
  connect.client_id = std::string(field);
  if ((flags & kFlagWill) != 0) {
    // Will topic and message: read past them (the load generator never sets a will).
    std::string_view will_topic, will_message;
    if (!in.string(will_topic) || !in.string(will_message)) {
      return malformed("MQTT CONNECT truncated");
    }
  }
  if ((flags & kFlagUsername) != 0) {
    if (!in.string(field)) return malformed("MQTT CONNECT truncated");
    if (!valid_text(field)) return malformed("MQTT CONNECT user name");
    connect.username = std::string(field);
  }
  if ((flags & kFlagPassword) != 0) {
    if (!in.string(field)) return malformed("MQTT CONNECT truncated");
    connect.password = std::string(field);
  }
  if (!in.empty()) return malformed("MQTT CONNECT trailing bytes");
  return connect;
}

Result<Connack> decode_connack(const Packet& packet) {
  PARLEY_RETURN_IF_ERROR(check_type(packet, PacketType::kConnack, 0));
  if (packet.body.size() != 2) return malformed("MQTT CONNACK length");
  const auto ack_flags = static_cast<std::uint8_t>(packet.body[0]);
  if ((ack_flags & 0xFE) != 0) return malformed("MQTT CONNACK reserved flags");
  Connack connack;
  connack.session_present = (ack_flags & 0x01) != 0;
  connack.return_code = static_cast<std::uint8_t>(packet.body[1]);
  if (connack.return_code > 5) return malformed("MQTT CONNACK return code");
  return connack;
}

Result<Publish> decode_publish(const Packet& packet) {
  if (packet.type() != PacketType::kPublish) {
    return Status::error(ErrorCode::kFailedPrecondition, "MQTT packet of another type");
  }
  Publish publish;
  publish.dup = (packet.flags() & 0x08) != 0;
  publish.qos = static_cast<std::uint8_t>((packet.flags() >> 1) & 0x03);
  publish.retain = (packet.flags() & 0x01) != 0;
  if (publish.qos == 3) return malformed("MQTT PUBLISH QoS 3");
  if (publish.qos == 0 && publish.dup) return malformed("MQTT PUBLISH DUP with QoS 0");
  BodyReader in(packet.body);
  std::string_view topic;
  if (!in.string(topic)) return malformed("MQTT PUBLISH truncated");
  if (topic.empty() || has_wildcard(topic) || !valid_text(topic)) {
    return malformed("MQTT PUBLISH topic name");
  }
  if (publish.qos > 0) {
    if (!in.u16(publish.packet_id)) return malformed("MQTT PUBLISH truncated");
    if (publish.packet_id == 0) return malformed("MQTT PUBLISH packet id 0");
  }
  publish.topic = std::string(topic);
  publish.payload = std::string(in.rest());
  return publish;
}

Result<std::uint16_t> decode_puback(const Packet& packet) {
  PARLEY_RETURN_IF_ERROR(check_type(packet, PacketType::kPuback, 0));
  BodyReader in(packet.body);
  std::uint16_t id = 0;
  if (!in.u16(id) || !in.empty()) return malformed("MQTT PUBACK length");
  if (id == 0) return malformed("MQTT PUBACK packet id 0");
  return id;
}

Result<Subscribe> decode_subscribe(const Packet& packet) {
  PARLEY_RETURN_IF_ERROR(check_type(packet, PacketType::kSubscribe, 0x02));
  BodyReader in(packet.body);
  Subscribe subscribe;
  if (!in.u16(subscribe.packet_id)) return malformed("MQTT SUBSCRIBE truncated");
  if (subscribe.packet_id == 0) return malformed("MQTT SUBSCRIBE packet id 0");
  while (!in.empty()) {
    std::string_view filter;
    std::uint8_t qos = 0;
    if (!in.string(filter) || !in.u8(qos)) return malformed("MQTT SUBSCRIBE truncated");
    if (filter.empty() || !valid_text(filter)) return malformed("MQTT SUBSCRIBE topic filter");
    if (qos > 2) return malformed("MQTT SUBSCRIBE requested QoS");  // and reserved bits
    subscribe.subscriptions.push_back({std::string(filter), qos});
  }
  if (subscribe.subscriptions.empty()) return malformed("MQTT SUBSCRIBE without topics");
  return subscribe;
}

Result<Suback> decode_suback(const Packet& packet) {
  PARLEY_RETURN_IF_ERROR(check_type(packet, PacketType::kSuback, 0));
  BodyReader in(packet.body);
  Suback suback;
  if (!in.u16(suback.packet_id)) return malformed("MQTT SUBACK truncated");
  if (suback.packet_id == 0) return malformed("MQTT SUBACK packet id 0");
  for (char c : in.rest()) {
    const auto code = static_cast<std::uint8_t>(c);
    if (code > 2 && code != kSubackFailure) return malformed("MQTT SUBACK return code");
    suback.return_codes.push_back(code);
  }
  if (suback.return_codes.empty()) return malformed("MQTT SUBACK without return codes");
  return suback;
}

Status decode_empty(const Packet& packet, PacketType expected) {
  PARLEY_RETURN_IF_ERROR(check_type(packet, expected, 0));
  if (!packet.body.empty()) return malformed("MQTT packet should have no body");
  return {};
}

}  // namespace parley::load::mqtt
