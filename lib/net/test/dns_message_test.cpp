// SPDX-License-Identifier: AGPL-3.0-or-later
// RFC 1035 messages for DNS over HTTPS: the query bytes against a hand-assembled example, and the
// answer parser against good answers, CNAME chains, compression, errors and hostile bytes.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "parley/net/doh.h"

namespace parley::net {
namespace {

constexpr std::uint16_t kA = 1;
constexpr std::uint16_t kCname = 5;
constexpr std::uint16_t kAaaa = 28;
constexpr std::uint16_t kId = 0xbeef;

// Builds DNS messages byte by byte, the way RFC 1035 §4 draws them.
class Message {
 public:
  Message& u8(std::uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  Message& u16(std::uint16_t value) { return u8(value >> 8).u8(value & 0xff); }
  Message& u32(std::uint32_t value) { return u16(value >> 16).u16(value & 0xffff); }
  Message& raw(std::initializer_list<std::uint8_t> values) {
    bytes_.insert(bytes_.end(), values);
    return *this;
  }
  // Uncompressed name: "www.example.com" → 3www7example3com0.
  Message& name(std::string_view dotted) {
    labels(dotted);
    return u8(0);
  }
  // Labels, then a compression pointer to `offset`.
  Message& name_then_pointer(std::string_view dotted, std::uint16_t offset) {
    labels(dotted);
    return pointer(offset);
  }
  Message& pointer(std::uint16_t offset) { return u16(0xc000 | offset); }
  Message& header(std::uint16_t id, std::uint16_t flags, std::uint16_t questions,
                  std::uint16_t answers) {
    return u16(id).u16(flags).u16(questions).u16(answers).u16(0).u16(0);
  }
  // A record's fixed part after its owner name, then the data.
  Message& record_tail(std::uint16_t type, std::initializer_list<std::uint8_t> data) {
    u16(type).u16(1).u32(300).u16(static_cast<std::uint16_t>(data.size()));
    return raw(data);
  }
  std::size_t size() const { return bytes_.size(); }
  const Bytes& bytes() const { return bytes_; }

 private:
  void labels(std::string_view dotted) {
    while (!dotted.empty()) {
      std::size_t dot = dotted.find('.');
      std::string_view label = dotted.substr(0, dot);
      u8(static_cast<std::uint8_t>(label.size()));
      for (char c : label) u8(static_cast<std::uint8_t>(c));
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
  }
  Bytes bytes_;
};

constexpr std::uint16_t kResponse = 0x8180;  // QR, RD, RA, RCODE 0
constexpr std::uint16_t kQuestionOffset = 12;

// Header + the question for www.example.com.
Message answer_start(std::uint16_t answers, std::uint16_t type = kA,
                     std::uint16_t flags = kResponse) {
  Message m;
  m.header(kId, flags, 1, answers).name("www.example.com").u16(type).u16(1);
  return m;
}

Result<std::vector<std::string>> parse(const Message& m, std::uint16_t type = kA,
                                       std::string_view name = "www.example.com") {
  return parse_dns_answer(m.bytes(), kId, name, type);
}

TEST(DnsQueryTest, MatchesHandAssembledRfc1035Example) {
  // RFC 1035 §4.1: header (ID, flags with only RD, QDCOUNT 1), QNAME as labels, QTYPE, QCLASS IN.
  const Bytes expected = {
      0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // header
      3,    'w',  'w',  'w',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
      3,    'c',  'o',  'm',  0,  // QNAME
      0x00, 0x01,                 // QTYPE A
      0x00, 0x01,                 // QCLASS IN
  };
  EXPECT_EQ(dns_query("www.example.com", 0x1234, kA), expected);

  Bytes aaaa = expected;
  aaaa[aaaa.size() - 3] = 28;
  EXPECT_EQ(dns_query("www.example.com", 0x1234, kAaaa), aaaa);
}

TEST(DnsQueryTest, LowercasesAndAcceptsOneTrailingDot) {
  EXPECT_EQ(dns_query("WWW.Example.COM.", 0x1234, kA), dns_query("www.example.com", 0x1234, kA));
  EXPECT_TRUE(dns_query("example.com..", 1, kA).empty());
}

TEST(DnsQueryTest, RejectsNamesThatAreNotHostNames) {
  const std::string label63(63, 'a');
  // 4 labels of 63 + 3 dots = 255; trimmed to exactly 253 characters below.
  std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_FALSE(dns_query(label63 + ".com", 1, kA).empty());
  EXPECT_FALSE(dns_query(name253, 1, kA).empty());
  EXPECT_FALSE(dns_query("xn--bcher-kva.example", 1, kA).empty());
  EXPECT_FALSE(dns_query("localhost", 1, kA).empty());

  for (const std::string& bad :
       {std::string(), std::string("."), std::string("a..b"), std::string(".a"),
        std::string(64, 'a') + ".com", name253 + "b", std::string("-a.com"), std::string("a-.com"),
        std::string("a b.com"), std::string("a_b.com"), std::string("ex\xc3\xa9.com"),
        std::string("a\0b.com", 7), std::string("1.2.3.4:53")}) {
    EXPECT_TRUE(dns_query(bad, 1, kA).empty()) << bad;
  }
}

TEST(DnsAnswerTest, ParsesARecordsWithCompressedOwners) {
  Message m = answer_start(2);
  m.pointer(kQuestionOffset).record_tail(kA, {93, 184, 216, 34});
  m.pointer(kQuestionOffset).record_tail(kA, {1, 2, 3, 4});
  auto result = parse(m);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"93.184.216.34", "1.2.3.4"}));
}

TEST(DnsAnswerTest, ParsesAaaaRecords) {
  Message m = answer_start(1, kAaaa);
  m.pointer(kQuestionOffset)
      .record_tail(kAaaa, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  auto result = parse(m, kAaaa);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"2001:db8::1"}));
}

TEST(DnsAnswerTest, MatchesNamesCaseInsensitively) {
  Message m;
  m.header(kId, kResponse, 1, 1).name("WWW.example.Com").u16(kA).u16(1);
  m.name("www.EXAMPLE.com").record_tail(kA, {10, 0, 0, 1});
  auto result = parse(m, kA, "Www.Example.Com");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"10.0.0.1"}));
}

TEST(DnsAnswerTest, FollowsCnameChainAndIgnoresOtherOwners) {
  Message m = answer_start(5);
  // www.example.com CNAME cdn.example.net (written in full).
  m.pointer(kQuestionOffset).u16(kCname).u16(1).u32(60).u16(17).name("cdn.example.net");
  const auto cdn_offset = static_cast<std::uint16_t>(m.size() - 17);
  // An A record for a name outside the chain: a resolver must not be able to slip it in.
  m.name("evil.example").record_tail(kA, {6, 6, 6, 6});
  // edge.cdn.example.net A 10.1.2.3 — listed before the CNAME that leads to it.
  const auto edge_offset = static_cast<std::uint16_t>(m.size());
  m.name_then_pointer("edge", cdn_offset).record_tail(kA, {10, 1, 2, 3});
  // cdn.example.net CNAME edge.cdn.example.net (compressed data: a pointer into the record above).
  m.pointer(cdn_offset).u16(kCname).u16(1).u32(60).u16(2).pointer(edge_offset);
  // An A record for the queried name itself is not the chain's end: ignored.
  m.pointer(kQuestionOffset).record_tail(kA, {7, 7, 7, 7});
  auto result = parse(m);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"10.1.2.3"}));
}

// A chain www.example.com → h1.example → … → h<hops>.example with an A record at its end.
Message cname_chain(int hops) {
  Message m = answer_start(static_cast<std::uint16_t>(hops + 1));
  std::string owner = "www.example.com";
  for (int i = 1; i <= hops; ++i) {
    std::string target = "h" + std::to_string(i) + ".example";
    m.name(owner).u16(kCname).u16(1).u32(60).u16(static_cast<std::uint16_t>(target.size() + 2));
    m.name(target);
    owner = target;
  }
  m.name(owner).record_tail(kA, {192, 0, 2, 1});
  return m;
}

TEST(DnsAnswerTest, AllowsEightCnameHopsButNotNine) {
  auto eight = parse(cname_chain(8));
  ASSERT_TRUE(eight.ok()) << eight.status().message();
  EXPECT_EQ(*eight, (std::vector<std::string>{"192.0.2.1"}));
  auto nine = parse(cname_chain(9));
  ASSERT_FALSE(nine.ok());
  EXPECT_EQ(nine.status().code(), ErrorCode::kProtocolViolation);
}

TEST(DnsAnswerTest, CnameLoopIsAnError) {
  Message m = answer_start(2);
  m.name("www.example.com").u16(kCname).u16(1).u32(60).u16(7).name("b.test");
  m.name("b.test").u16(kCname).u16(1).u32(60).u16(17).name("www.example.com");
  auto result = parse(m);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kProtocolViolation);
}

TEST(DnsAnswerTest, NxdomainIsNotFoundAndOtherRcodesAreUnavailable) {
  auto nxdomain = parse(answer_start(0, kA, kResponse | 3));
  ASSERT_FALSE(nxdomain.ok());
  EXPECT_EQ(nxdomain.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(nxdomain.status().message(), "the name does not exist (NXDOMAIN)");

  for (std::uint16_t rcode : {1, 2, 4, 5, 15}) {
    auto result = parse(answer_start(0, kA, kResponse | rcode));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), ErrorCode::kUnavailable) << rcode;
  }
}

TEST(DnsAnswerTest, NoAddressRecordsIsNotFound) {
  auto empty = parse(answer_start(0));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), ErrorCode::kNotFound);

  // An A query answered only with an AAAA record: nothing of the asked type.
  Message m = answer_start(1);
  m.pointer(kQuestionOffset)
      .record_tail(kAaaa, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  auto other_type = parse(m);
  ASSERT_FALSE(other_type.ok());
  EXPECT_EQ(other_type.status().code(), ErrorCode::kNotFound);
}

TEST(DnsAnswerTest, RejectsAnswersToAnotherQuery) {
  Message good = answer_start(1);
  good.pointer(kQuestionOffset).record_tail(kA, {1, 2, 3, 4});
  ASSERT_TRUE(parse(good).ok());

  auto wrong_id = parse_dns_answer(good.bytes(), kId + 1, "www.example.com", kA);
  ASSERT_FALSE(wrong_id.ok());
  EXPECT_EQ(wrong_id.status().code(), ErrorCode::kProtocolViolation);

  auto other_name = parse(good, kA, "www.example.org");
  ASSERT_FALSE(other_name.ok());
  EXPECT_EQ(other_name.status().code(), ErrorCode::kProtocolViolation);

  auto other_type = parse(good, kAaaa);
  ASSERT_FALSE(other_type.ok());
  EXPECT_EQ(other_type.status().code(), ErrorCode::kProtocolViolation);

  Message query = answer_start(0, kA, 0x0100);  // QR clear: a query, not a response
  auto not_response = parse(query);
  ASSERT_FALSE(not_response.ok());
  EXPECT_EQ(not_response.status().code(), ErrorCode::kProtocolViolation);

  Message two_questions;
  two_questions.header(kId, kResponse, 2, 0).name("www.example.com").u16(kA).u16(1);
  two_questions.pointer(kQuestionOffset).u16(kA).u16(1);
  EXPECT_EQ(parse(two_questions).status().code(), ErrorCode::kProtocolViolation);
}

TEST(DnsAnswerTest, RejectsAddressRecordsOfTheWrongLength) {
  Message a5 = answer_start(1);
  a5.pointer(kQuestionOffset).record_tail(kA, {1, 2, 3, 4, 5});
  EXPECT_EQ(parse(a5).status().code(), ErrorCode::kProtocolViolation);

  Message aaaa4 = answer_start(1, kAaaa);
  aaaa4.pointer(kQuestionOffset).record_tail(kAaaa, {1, 2, 3, 4});
  EXPECT_EQ(parse(aaaa4, kAaaa).status().code(), ErrorCode::kProtocolViolation);

  // A CNAME whose name ends before (or after) its RDLENGTH says.
  Message cname = answer_start(1);
  cname.pointer(kQuestionOffset).u16(kCname).u16(1).u32(60).u16(9).name("a.test").u8(0).u8(0);
  EXPECT_EQ(parse(cname).status().code(), ErrorCode::kProtocolViolation);
}

TEST(DnsAnswerTest, EveryTruncationIsAnErrorNotACrash) {
  Message full = cname_chain(3);
  ASSERT_TRUE(parse(full).ok());
  for (std::size_t length = 0; length < full.size(); ++length) {
    Bytes cut(full.bytes().begin(), full.bytes().begin() + static_cast<std::ptrdiff_t>(length));
    auto result = parse_dns_answer(cut, kId, "www.example.com", kA);
    ASSERT_FALSE(result.ok()) << "length " << length;
    EXPECT_EQ(result.status().code(), ErrorCode::kProtocolViolation) << "length " << length;
  }

  Message compressed = answer_start(1);
  compressed.pointer(kQuestionOffset).record_tail(kA, {1, 2, 3, 4});
  for (std::size_t length = 0; length < compressed.size(); ++length) {
    Bytes cut(compressed.bytes().begin(),
              compressed.bytes().begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_EQ(parse_dns_answer(cut, kId, "www.example.com", kA).status().code(),
              ErrorCode::kProtocolViolation)
        << "length " << length;
  }
}

TEST(DnsAnswerTest, CompressionLoopsAndForwardPointersAreErrors) {
  // The question's name is a pointer to itself.
  Message self;
  self.header(kId, kResponse, 1, 0).pointer(kQuestionOffset).u16(kA).u16(1);
  EXPECT_EQ(parse(self).status().code(), ErrorCode::kProtocolViolation);

  // A label, then a pointer back to that label: each pointer goes backwards, yet it loops.
  Message label_loop = answer_start(1);
  const auto loop_start = static_cast<std::uint16_t>(label_loop.size());
  label_loop.name_then_pointer("x", loop_start).record_tail(kA, {1, 2, 3, 4});
  EXPECT_EQ(parse(label_loop).status().code(), ErrorCode::kProtocolViolation);

  // Two names that point at each other (the second one forwards).
  Message pair = answer_start(2);
  const auto first = static_cast<std::uint16_t>(pair.size());
  pair.pointer(static_cast<std::uint16_t>(first + 12)).record_tail(kA, {1, 2, 3, 4});
  pair.pointer(first).record_tail(kA, {1, 2, 3, 4});
  EXPECT_EQ(parse(pair).status().code(), ErrorCode::kProtocolViolation);

  // Reserved label types (0x40, 0x80) are not compression pointers.
  Message reserved = answer_start(1);
  reserved.u8(0x40).u8(0).record_tail(kA, {1, 2, 3, 4});
  EXPECT_EQ(parse(reserved).status().code(), ErrorCode::kProtocolViolation);
}

TEST(DnsAnswerTest, ChainsOfBackwardPointersAreFollowed) {
  // www.example.com CNAME "cdn" + pointer to the question's "example.com"; then an owner that
  // points at that CNAME target: two jumps to read cdn.example.com.
  Message m = answer_start(2);
  m.pointer(kQuestionOffset).u16(kCname).u16(1).u32(60).u16(6);
  const auto cdn = static_cast<std::uint16_t>(m.size());
  m.name_then_pointer("cdn", kQuestionOffset + 4);
  m.pointer(cdn).record_tail(kA, {8, 8, 4, 4});
  auto result = parse(m);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"8.8.4.4"}));
}

TEST(DnsAnswerTest, AddressesParseBackWithInetPton) {
  Message m = answer_start(3, kAaaa);
  m.pointer(kQuestionOffset)
      .record_tail(kAaaa, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4});
  m.pointer(kQuestionOffset).record_tail(kAaaa, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  m.pointer(kQuestionOffset)
      .record_tail(kAaaa, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff});
  auto result = parse(m, kAaaa);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->size(), 3u);
  for (const std::string& text : *result) {
    unsigned char out[16];
    EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), out), 1) << text;
  }
}

}  // namespace
}  // namespace parley::net
