// SPDX-License-Identifier: AGPL-3.0-or-later
#include "mqtt_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::load::mqtt {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string remaining_length(std::size_t length) {
  std::string out;
  EXPECT_TRUE(append_remaining_length(out, length).ok());
  return out;
}

// Feeds `wire` and expects exactly one whole packet.
Packet read_one(const std::string& wire) {
  PacketReader reader;
  reader.feed(wire);
  auto packet = reader.next();
  EXPECT_TRUE(packet.ok()) << packet.status().to_string();
  EXPECT_TRUE(packet.ok() && packet->has_value());
  auto none = reader.next();
  EXPECT_TRUE(none.ok() && !none->has_value());
  return packet.ok() && packet->has_value() ? **packet : Packet{};
}

// ---- Remaining Length: the table of spec 2.2.3 -------------------------------------------

TEST(MqttCodec, RemainingLengthMatchesTheSpecTable) {
  EXPECT_EQ(remaining_length(0), bytes({0x00}));
  EXPECT_EQ(remaining_length(127), bytes({0x7F}));
  EXPECT_EQ(remaining_length(128), bytes({0x80, 0x01}));
  EXPECT_EQ(remaining_length(16'383), bytes({0xFF, 0x7F}));
  EXPECT_EQ(remaining_length(16'384), bytes({0x80, 0x80, 0x01}));
  EXPECT_EQ(remaining_length(2'097'151), bytes({0xFF, 0xFF, 0x7F}));
  EXPECT_EQ(remaining_length(2'097'152), bytes({0x80, 0x80, 0x80, 0x01}));
  EXPECT_EQ(remaining_length(268'435'455), bytes({0xFF, 0xFF, 0xFF, 0x7F}));
}

TEST(MqttCodec, RemainingLengthAboveTheMaximumIsRefused) {
  std::string out;
  EXPECT_EQ(append_remaining_length(out, 268'435'456).code(), ErrorCode::kTooLarge);
}

TEST(MqttCodec, ReaderDecodesEveryRemainingLengthWidth) {
  for (std::size_t length : {0u, 1u, 127u, 128u, 300u, 16'383u, 16'384u, 70'000u}) {
    std::string wire(1, static_cast<char>(0x30));  // PUBLISH, QoS 0
    wire += remaining_length(length);
    wire += std::string(length, 'x');
    PacketReader reader(1u << 20);
    reader.feed(wire);
    auto packet = reader.next();
    ASSERT_TRUE(packet.ok()) << length;
    ASSERT_TRUE(packet->has_value()) << length;
    EXPECT_EQ((*packet)->body.size(), length);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

// ---- byte-exact encodings ------------------------------------------------------------------

TEST(MqttCodec, ConnectEncodingIsByteExact) {
  Connect connect;
  connect.client_id = "c1";
  connect.clean_session = false;
  connect.keepalive_seconds = 10;
  connect.username = "u";
  connect.password = "pw";
  auto wire = encode_connect(connect);
  ASSERT_TRUE(wire.ok());
  // Fixed header 0x10, Remaining Length, protocol name "MQTT" (spec figure 3.2), level 4, flags
  // user name + password (0xC0), clean session off, keepalive 10, then the payload strings.
  EXPECT_EQ(*wire, bytes({0x10, 21,   0x00, 0x04, 'M',  'Q',  'T', 'T',  0x04, 0xC0, 0x00, 0x0A,
                          0x00, 0x02, 'c',  '1',  0x00, 0x01, 'u', 0x00, 0x02, 'p',  'w'}));
}

TEST(MqttCodec, ConnectWithCleanSessionAndNoCredentials) {
  Connect connect;
  connect.client_id = "";
  connect.clean_session = true;
  connect.keepalive_seconds = 60;
  auto wire = encode_connect(connect);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(*wire,
            bytes({0x10, 12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 60, 0x00, 0x00}));
}

TEST(MqttCodec, FixedPacketsAreByteExact) {
  EXPECT_EQ(encode_pingreq(), bytes({0xC0, 0x00}));
  EXPECT_EQ(encode_pingresp(), bytes({0xD0, 0x00}));
  EXPECT_EQ(encode_disconnect(), bytes({0xE0, 0x00}));
  EXPECT_EQ(encode_puback(0x1234), bytes({0x40, 0x02, 0x12, 0x34}));
  EXPECT_EQ(encode_connack({true, 0}), bytes({0x20, 0x02, 0x01, 0x00}));
  EXPECT_EQ(encode_connack({false, 5}), bytes({0x20, 0x02, 0x00, 0x05}));
}

TEST(MqttCodec, PublishEncodingIsByteExact) {
  // QoS 1, DUP; the spec's PUBLISH variable header example: topic "a/b", packet id 10.
  auto qos1 = encode_publish({"a/b", "hi", 1, true, false, 10});
  ASSERT_TRUE(qos1.ok());
  EXPECT_EQ(*qos1, bytes({0x3A, 9, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
  // QoS 0 carries no packet id.
  auto qos0 = encode_publish({"a/b", "hi", 0, false, true, 0});
  ASSERT_TRUE(qos0.ok());
  EXPECT_EQ(*qos0, bytes({0x31, 7, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'}));
}

TEST(MqttCodec, SubscribeAndSubackEncodingsAreByteExact) {
  auto subscribe = encode_subscribe({10, {{"a/b", 1}}});
  ASSERT_TRUE(subscribe.ok());
  EXPECT_EQ(*subscribe, bytes({0x82, 8, 0x00, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x01}));
  // The spec's SUBACK payload example: granted QoS 0, granted QoS 2, failure.
  EXPECT_EQ(encode_suback({10, {0, 2, 0x80}}), bytes({0x90, 5, 0x00, 0x0A, 0x00, 0x02, 0x80}));
}

TEST(MqttCodec, EncodersRefuseWhatTheSpecForbids) {
  Connect password_only;
  password_only.password = "pw";
  EXPECT_EQ(encode_connect(password_only).status().code(), ErrorCode::kInvalidArgument);
  Connect long_id;
  long_id.client_id = std::string(65'536, 'x');
  EXPECT_EQ(encode_connect(long_id).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(encode_publish({"a", "", 2, false, false, 1}).ok());    // QoS 2
  EXPECT_FALSE(encode_publish({"a", "", 0, true, false, 0}).ok());     // DUP with QoS 0
  EXPECT_FALSE(encode_publish({"a", "", 1, false, false, 0}).ok());    // packet id 0
  EXPECT_FALSE(encode_publish({"a/+", "", 0, false, false, 0}).ok());  // wildcard
  EXPECT_FALSE(encode_publish({"", "", 0, false, false, 0}).ok());     // empty topic
  EXPECT_FALSE(encode_subscribe({1, {}}).ok());                        // no topics
  EXPECT_FALSE(encode_subscribe({0, {{"a", 1}}}).ok());                // packet id 0
}

// ---- round trips ---------------------------------------------------------------------------

TEST(MqttCodec, ConnectRoundTrips) {
  Connect connect;
  connect.client_id = "load17";
  connect.clean_session = false;
  connect.keepalive_seconds = 25;
  connect.username = "load17";
  connect.password = std::string("p\0w", 3);  // binary data may hold NUL
  auto wire = encode_connect(connect);
  ASSERT_TRUE(wire.ok());
  auto decoded = decode_connect(read_one(*wire));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->client_id, "load17");
  EXPECT_FALSE(decoded->clean_session);
  EXPECT_EQ(decoded->keepalive_seconds, 25);
  EXPECT_EQ(decoded->username, connect.username);
  EXPECT_EQ(decoded->password, connect.password);
}

TEST(MqttCodec, ConnackRoundTrips) {
  auto decoded = decode_connack(read_one(encode_connack({true, 0})));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->session_present);
  EXPECT_EQ(decoded->return_code, kConnackAccepted);
}

TEST(MqttCodec, PublishRoundTripsWithBinaryPayload) {
  std::string payload(300, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  Publish publish{"parley-load/load3", payload, 1, true, false, 65'535};
  auto wire = encode_publish(publish);
  ASSERT_TRUE(wire.ok());
  Packet packet = read_one(*wire);
  EXPECT_EQ(packet.type(), PacketType::kPublish);
  auto decoded = decode_publish(packet);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->topic, publish.topic);
  EXPECT_EQ(decoded->payload, payload);
  EXPECT_EQ(decoded->qos, 1);
  EXPECT_TRUE(decoded->dup);
  EXPECT_FALSE(decoded->retain);
  EXPECT_EQ(decoded->packet_id, 65'535);

  auto retained = encode_publish({"t", "", 0, false, true, 0});
  ASSERT_TRUE(retained.ok());
  auto decoded0 = decode_publish(read_one(*retained));
  ASSERT_TRUE(decoded0.ok());
  EXPECT_TRUE(decoded0->retain);
  EXPECT_EQ(decoded0->qos, 0);
  EXPECT_EQ(decoded0->packet_id, 0);
  EXPECT_TRUE(decoded0->payload.empty());
}

TEST(MqttCodec, SubscribeSubackPubackAndEmptyPacketsRoundTrip) {
  auto subscribe = encode_subscribe({7, {{"x/y", 1}, {"z/#", 0}}});
  ASSERT_TRUE(subscribe.ok());
  auto decoded = decode_subscribe(read_one(*subscribe));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->packet_id, 7);
  ASSERT_EQ(decoded->subscriptions.size(), 2u);
  EXPECT_EQ(decoded->subscriptions[1].topic_filter, "z/#");
  EXPECT_EQ(decoded->subscriptions[1].qos, 0);

  auto suback = decode_suback(read_one(encode_suback({7, {1, 0x80}})));
  ASSERT_TRUE(suback.ok());
  EXPECT_EQ(suback->return_codes, (std::vector<std::uint8_t>{1, 0x80}));

  auto puback = decode_puback(read_one(encode_puback(513)));
  ASSERT_TRUE(puback.ok());
  EXPECT_EQ(*puback, 513);

  EXPECT_TRUE(decode_empty(read_one(encode_pingreq()), PacketType::kPingreq).ok());
  EXPECT_TRUE(decode_empty(read_one(encode_pingresp()), PacketType::kPingresp).ok());
  EXPECT_TRUE(decode_empty(read_one(encode_disconnect()), PacketType::kDisconnect).ok());
  EXPECT_EQ(decode_empty(read_one(encode_pingreq()), PacketType::kPingresp).code(),
            ErrorCode::kFailedPrecondition);
}

// ---- the incremental reader ----------------------------------------------------------------

TEST(MqttCodec, ReaderReassemblesPacketsFedByteByByte) {
  std::string stream;
  std::vector<std::uint16_t> ids;
  for (std::uint16_t id = 1; id <= 20; ++id) {
    // Payload sizes around the one- and two-byte Remaining Length boundary.
    std::string payload(110 + id * 3, static_cast<char>('a' + id));
    ASSERT_TRUE(append_publish(stream, "t/" + std::to_string(id), payload, 1, false, id).ok());
    append_puback(stream, id);
    ids.push_back(id);
  }
  stream += encode_pingresp();

  PacketReader reader;
  std::vector<Packet> packets;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    for (;;) {
      auto next = reader.next();
      ASSERT_TRUE(next.ok()) << next.status().to_string();
      if (!next->has_value()) break;
      packets.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(packets.size(), 41u);
  for (std::size_t i = 0; i < 20; ++i) {
    auto publish = decode_publish(packets[2 * i]);
    ASSERT_TRUE(publish.ok());
    EXPECT_EQ(publish->packet_id, ids[i]);
    EXPECT_EQ(publish->topic, "t/" + std::to_string(ids[i]));
    EXPECT_EQ(publish->payload.size(), 110u + ids[i] * 3);
    auto puback = decode_puback(packets[2 * i + 1]);
    ASSERT_TRUE(puback.ok());
    EXPECT_EQ(*puback, ids[i]);
  }
  EXPECT_TRUE(decode_empty(packets.back(), PacketType::kPingresp).ok());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(MqttCodec, ReaderWaitsOnTruncatedInput) {
  auto wire = encode_publish({"a/b", std::string(200, 'p'), 1, false, false, 3});
  ASSERT_TRUE(wire.ok());
  for (std::size_t cut = 0; cut < wire->size(); ++cut) {
    PacketReader reader;
    reader.feed(std::string_view(*wire).substr(0, cut));
    auto next = reader.next();
    ASSERT_TRUE(next.ok()) << cut;
    EXPECT_FALSE(next->has_value()) << cut;
    reader.feed(std::string_view(*wire).substr(cut));
    next = reader.next();
    ASSERT_TRUE(next.ok() && next->has_value()) << cut;
  }
}

TEST(MqttCodec, FiveByteRemainingLengthIsMalformed) {
  PacketReader reader;
  reader.feed(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  auto next = reader.next();
  EXPECT_EQ(next.status().code(), ErrorCode::kMalformedInput);
  // The stream is out of sync: the reader stays failed whatever comes next.
  reader.feed(encode_pingresp());
  EXPECT_EQ(reader.next().status().code(), ErrorCode::kMalformedInput);
}

TEST(MqttCodec, OversizedPacketIsRefusedBeforeItsBodyArrives) {
  PacketReader reader(1024);
  // Announces 268,435,455 bytes; only the header arrives. No allocation of that size happens.
  reader.feed(bytes({0x30, 0xFF, 0xFF, 0xFF, 0x7F}));
  EXPECT_EQ(reader.next().status().code(), ErrorCode::kTooLarge);

  PacketReader small(1024);
  std::string just_over(1, static_cast<char>(0x30));
  just_over += remaining_length(1022);  // 1 + 2 + 1022 = 1025 bytes
  small.feed(just_over);
  EXPECT_EQ(small.next().status().code(), ErrorCode::kTooLarge);

  PacketReader fits(1024);
  std::string at_limit(1, static_cast<char>(0x30));
  at_limit += remaining_length(1021);
  at_limit += std::string(1021, 'x');
  fits.feed(at_limit);
  auto next = fits.next();
  ASSERT_TRUE(next.ok() && next->has_value());
}

TEST(MqttCodec, ReservedPacketTypesAreMalformed) {
  for (int first : {0x00, 0xF0}) {
    PacketReader reader;
    reader.feed(bytes({first, 0x00}));
    EXPECT_EQ(reader.next().status().code(), ErrorCode::kMalformedInput);
  }
}

TEST(MqttCodec, MalformedBodiesAreErrorsNotCrashes) {
  auto packet = [](int first, std::string body) {
    return Packet{static_cast<std::uint8_t>(first), body};
  };
  // PUBLISH: QoS 3, DUP with QoS 0, truncated topic, missing packet id, packet id 0, wildcard.
  EXPECT_EQ(decode_publish(packet(0x36, bytes({0, 1, 'a', 0, 1}))).status().code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_publish(packet(0x38, bytes({0, 1, 'a'}))).status().code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_publish(packet(0x30, bytes({0, 5, 'a'}))).status().code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_publish(packet(0x32, bytes({0, 1, 'a', 0}))).status().code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_publish(packet(0x32, bytes({0, 1, 'a', 0, 0}))).status().code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_publish(packet(0x30, bytes({0, 1, '#'}))).status().code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_publish(packet(0x30, {})).status().code(), ErrorCode::kMalformedInput);
  // CONNACK: wrong length, reserved flags, unknown return code, wrong fixed-header flags.
  EXPECT_FALSE(decode_connack(packet(0x20, bytes({0}))).ok());
  EXPECT_FALSE(decode_connack(packet(0x20, bytes({2, 0}))).ok());
  EXPECT_FALSE(decode_connack(packet(0x20, bytes({0, 6}))).ok());
  EXPECT_FALSE(decode_connack(packet(0x21, bytes({0, 0}))).ok());
  // PUBACK: short, long, id 0.
  EXPECT_FALSE(decode_puback(packet(0x40, bytes({1}))).ok());
  EXPECT_FALSE(decode_puback(packet(0x40, bytes({0, 1, 2}))).ok());
  EXPECT_FALSE(decode_puback(packet(0x40, bytes({0, 0}))).ok());
  // SUBSCRIBE: flags must be 0010, QoS ≤ 2, at least one topic.
  EXPECT_FALSE(decode_subscribe(packet(0x80, bytes({0, 1, 0, 1, 'a', 1}))).ok());
  EXPECT_FALSE(decode_subscribe(packet(0x82, bytes({0, 1, 0, 1, 'a', 3}))).ok());
  EXPECT_FALSE(decode_subscribe(packet(0x82, bytes({0, 1}))).ok());
  // SUBACK: bad return code, none at all.
  EXPECT_FALSE(decode_suback(packet(0x90, bytes({0, 1, 3}))).ok());
  EXPECT_FALSE(decode_suback(packet(0x90, bytes({0, 1}))).ok());
  // CONNECT: wrong protocol name, level 3, reserved flag, truncated, trailing bytes.
  EXPECT_EQ(decode_connect(packet(0x10, bytes({0, 4, 'M', 'Q', 'T', 'X', 4, 2, 0, 0, 0, 0})))
                .status()
                .code(),
            ErrorCode::kMalformedInput);
  EXPECT_EQ(decode_connect(packet(0x10, bytes({0, 4, 'M', 'Q', 'T', 'T', 3, 2, 0, 0, 0, 0})))
                .status()
                .code(),
            ErrorCode::kUnsupportedVersion);
  EXPECT_FALSE(
      decode_connect(packet(0x10, bytes({0, 4, 'M', 'Q', 'T', 'T', 4, 3, 0, 0, 0, 0}))).ok());
  EXPECT_FALSE(decode_connect(packet(0x10, bytes({0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0}))).ok());
  EXPECT_FALSE(
      decode_connect(packet(0x10, bytes({0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0, 9}))).ok());
  // A PINGRESP with a body.
  EXPECT_FALSE(decode_empty(packet(0xD0, "x"), PacketType::kPingresp).ok());
}

TEST(MqttCodec, ArbitraryBytesNeverCrashTheReaderOrDecoders) {
  // A cheap deterministic fuzz: every packet the reader accepts goes through every decoder.
  std::uint32_t state = 12345;
  auto next_byte = [&state] {
    state = state * 1'103'515'245u + 12'345u;
    return static_cast<char>(state >> 24);
  };
  for (int round = 0; round < 2000; ++round) {
    PacketReader reader(4096);
    std::string input;
    for (int i = 0; i < 64; ++i) input.push_back(next_byte());
    reader.feed(input);
    for (int i = 0; i < 64; ++i) {
      auto next = reader.next();
      if (!next.ok() || !next->has_value()) break;
      const Packet& packet = **next;
      (void)decode_connect(packet);
      (void)decode_connack(packet);
      (void)decode_publish(packet);
      (void)decode_puback(packet);
      (void)decode_subscribe(packet);
      (void)decode_suback(packet);
      (void)decode_empty(packet, PacketType::kPingresp);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace parley::load::mqtt
