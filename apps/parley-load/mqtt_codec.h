// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The MQTT 3.1.1 packets parley-load needs to drive a broker (OASIS standard, 29 October 2014):
// CONNECT/CONNACK, SUBSCRIBE/SUBACK, PUBLISH (QoS 0 and 1)/PUBACK, PINGREQ/PINGRESP and
// DISCONNECT. Pure: encoders build bytes, `PacketReader` cuts a byte stream into whole packets and
// the decoders check each packet's body. Nothing here trusts the peer: a malformed or oversized
// packet is a Status error, never a crash or an unbounded allocation.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/util/status.h"

namespace parley::load::mqtt {

enum class PacketType : std::uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

// The largest Remaining Length the four-byte varint can say (spec 2.2.3).
inline constexpr std::size_t kMaxRemainingLength = 268'435'455;
// A reader's default limit on a whole packet (fixed header included): far above any packet a
// benchmark sends, far below what a garbage length could make us buffer.
inline constexpr std::size_t kDefaultMaxPacketBytes = 1u << 20;

// CONNACK return codes (spec 3.2.2.3); 0 accepts the connection.
inline constexpr std::uint8_t kConnackAccepted = 0;
// SUBACK return code for a refused subscription (spec 3.9.3).
inline constexpr std::uint8_t kSubackFailure = 0x80;

struct Connect {
  std::string client_id;
  bool clean_session = true;
  std::uint16_t keepalive_seconds = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;  // only with a username (spec 3.1.2.9)
};

struct Connack {
  bool session_present = false;
  std::uint8_t return_code = kConnackAccepted;
};

struct Publish {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;  // 0 or 1 (this codec does not do QoS 2's four-packet exchange)
  bool dup = false;      // only with QoS 1
  bool retain = false;
  std::uint16_t packet_id = 0;  // QoS 1: non-zero; QoS 0: none on the wire
};

struct Subscription {
  std::string topic_filter;
  std::uint8_t qos = 1;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions;  // at least one
};

struct Suback {
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> return_codes;  // granted QoS 0–2, or kSubackFailure
};

// One whole packet as it came off the wire: the first byte of the fixed header and the body
// (variable header + payload, exactly Remaining Length bytes).
struct Packet {
  std::uint8_t first_byte = 0;
  std::string body;

  PacketType type() const { return static_cast<PacketType>(first_byte >> 4); }
  std::uint8_t flags() const { return first_byte & 0x0F; }
};

// ---- encoding ------------------------------------------------------------------------------

// Appends Remaining Length `length` (spec 2.2.3: 7 bits per byte, least significant first, the top
// bit says "more"). kTooLarge above kMaxRemainingLength.
Status append_remaining_length(std::string& out, std::size_t length);

// kInvalidArgument when the packet breaks a rule of the spec (a string over 65,535 bytes, a
// password without a user name, QoS outside 0–1, DUP with QoS 0, packet id 0 with QoS 1, a topic
// with wildcards, no subscriptions) or kTooLarge when the packet exceeds the varint.
Result<std::string> encode_connect(const Connect& connect);
std::string encode_connack(const Connack& connack);
Result<std::string> encode_publish(const Publish& publish);
// Appends a PUBLISH to `out` without an intermediate Publish (the driver's send path).
Status append_publish(std::string& out, std::string_view topic, std::string_view payload,
                      std::uint8_t qos, bool dup, std::uint16_t packet_id);
std::string encode_puback(std::uint16_t packet_id);
void append_puback(std::string& out, std::uint16_t packet_id);
Result<std::string> encode_subscribe(const Subscribe& subscribe);
std::string encode_suback(const Suback& suback);
std::string encode_pingreq();
std::string encode_pingresp();
std::string encode_disconnect();

// ---- decoding ------------------------------------------------------------------------------

// Cuts a byte stream into packets. Feed what the socket gave; take packets until `next` says
// "need more". After an error the stream is out of sync: the reader stays failed.
class PacketReader {
 public:
  explicit PacketReader(std::size_t max_packet_bytes = kDefaultMaxPacketBytes)
      : max_packet_bytes_(max_packet_bytes) {}

  void feed(std::string_view bytes);
  // A whole packet, std::nullopt when more bytes are needed, or an error: kMalformedInput (a
  // Remaining Length longer than four bytes, a reserved packet type), kTooLarge (over the limit).
  Result<std::optional<Packet>> next();

  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::size_t max_packet_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::optional<Status> failed_;
};

// Each checks the fixed-header flags the spec fixes for its type and the body's exact layout:
// kMalformedInput on any violation, kFailedPrecondition when `packet` is of another type.
Result<Connect> decode_connect(const Packet& packet);
Result<Connack> decode_connack(const Packet& packet);
Result<Publish> decode_publish(const Packet& packet);
Result<std::uint16_t> decode_puback(const Packet& packet);  // the packet id
Result<Subscribe> decode_subscribe(const Packet& packet);
Result<Suback> decode_suback(const Packet& packet);
// PINGREQ, PINGRESP, DISCONNECT: flags 0 and an empty body.
Status decode_empty(const Packet& packet, PacketType expected);

}  // namespace parley::load::mqtt
