// SPDX-License-Identifier: AGPL-3.0-or-later
//
// RFC 1035 messages for DNS over HTTPS: the query we send and a strict parser for the answer.
// The answer comes from a resolver over TLS, but it is still bytes from the network: every read
// is bounds-checked, compression pointers may only go backwards past where the current name
// started (so they cannot loop) and are counted, and anything that does not add up is
// kProtocolViolation. No exceptions, no asserts on input.
//
// Names are compared in their wire form (length-prefixed labels, ASCII lowercased), never as
// dotted text: a label that itself contains a '.' can then never pass for two labels.

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <optional>

#include "parley/net/doh.h"

namespace parley::net {
namespace {

constexpr std::size_t kHeaderBytes = 12;
constexpr std::size_t kMaxNameWireBytes = 255;  // RFC 1035 §3.1, length octets included
constexpr std::size_t kMaxHostnameChars = 253;  // the same limit as dotted text
constexpr std::size_t kMaxLabelBytes = 63;
constexpr int kMaxCompressionJumps = 64;
constexpr int kMaxCnameHops = 8;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kClassIn = 1;

constexpr std::uint16_t kFlagResponse = 0x8000;          // QR
constexpr std::uint16_t kFlagRecursionDesired = 0x0100;  // RD
constexpr std::uint16_t kOpcodeMask = 0x7800;
constexpr std::uint16_t kRcodeMask = 0x000f;
constexpr std::uint16_t kRcodeNameError = 3;  // NXDOMAIN

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// The wire form of a host name (lowercased labels, then the root's zero byte), or nullopt when
// `name` is not a host name: labels of 1–63 letters, digits and hyphens (not at either end),
// at most 253 characters, one trailing dot allowed.
std::optional<std::string> hostname_to_wire(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxHostnameChars) return std::nullopt;
  std::string wire;
  wire.reserve(name.size() + 2);
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > kMaxLabelBytes) return std::nullopt;
    if (label.front() == '-' || label.back() == '-') return std::nullopt;
    wire += static_cast<char>(label.size());
    for (char c : label) {
      char lower = ascii_lower(c);
      if (!is_ldh(lower)) return std::nullopt;
      wire += lower;
    }
    start = dot + 1;
  }
  wire += '\0';
  return wire;
}

Status violation(const std::string& what) {
  return Status::error(ErrorCode::kProtocolViolation, "the DNS answer " + what);
}

// A bounds-checked reader over the whole message (compression pointers address all of it).
class Reader {
 public:
  explicit Reader(ByteView message) : message_(message) {}

  std::size_t size() const { return message_.size(); }

  Result<std::uint16_t> u16(std::size_t& offset) const {
    if (offset > message_.size() || message_.size() - offset < 2) return violation("is truncated");
    auto value = static_cast<std::uint16_t>((message_[offset] << 8) | message_[offset + 1]);
    offset += 2;
    return value;
  }

  Result<std::uint32_t> u32(std::size_t& offset) const {
    PARLEY_ASSIGN_OR_RETURN(std::uint16_t high, u16(offset));
    PARLEY_ASSIGN_OR_RETURN(std::uint16_t low, u16(offset));
    return (static_cast<std::uint32_t>(high) << 16) | low;
  }

  // Reads the (possibly compressed) name at `offset` into its lowercased wire form and moves
  // `offset` past the name's bytes at that place (a pointer ends it: two bytes).
  Result<std::string> name(std::size_t& offset) const {
    std::string wire;
    std::size_t position = offset;
    // Every pointer must point before the start of the labels that led to it: positions then
    // strictly decrease with each jump, so no loop is possible; the jump count bounds the work.
    std::size_t segment_start = offset;
    std::optional<std::size_t> resume;  // where the caller continues: after the first pointer
    int jumps = 0;
    while (true) {
      if (position >= message_.size()) return violation("has a name that runs past its end");
      std::uint8_t length = message_[position];
      if ((length & 0xc0) == 0xc0) {
        if (position + 1 >= message_.size()) return violation("has a truncated name pointer");
        std::size_t target =
            (static_cast<std::size_t>(length & 0x3f) << 8) | message_[position + 1];
        if (target >= segment_start) return violation("has a name pointer that does not go back");
        if (++jumps > kMaxCompressionJumps) return violation("has too many name pointers");
        if (!resume) resume = position + 2;
        position = segment_start = target;
        continue;
      }
      if ((length & 0xc0) != 0) return violation("uses an unknown label type");
      if (length == 0) {
        wire += '\0';
        if (wire.size() > kMaxNameWireBytes) return violation("has a name that is too long");
        offset = resume ? *resume : position + 1;
        return wire;
      }
      if (message_.size() - position - 1 < length) {
        return violation("has a label that runs past its end");
      }
      wire += static_cast<char>(length);
      for (std::size_t i = 1; i <= length; ++i) {
        wire += ascii_lower(static_cast<char>(message_[position + i]));
      }
      if (wire.size() + 1 > kMaxNameWireBytes) return violation("has a name that is too long");
      position += 1 + length;
    }
  }

 private:
  ByteView message_;
};

struct Record {
  std::string owner;  // wire form
  std::uint16_t type = 0;
  std::string cname;  // wire form, for CNAME records
  ByteView data;
};

std::string address_text(ByteView data) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  int family = data.size() == 4 ? AF_INET : AF_INET6;
  if (inet_ntop(family, data.data(), text.data(), text.size()) == nullptr) return {};
  return text.data();
}

}  // namespace

Bytes dns_query(std::string_view name, std::uint16_t id, std::uint16_t type) {
  std::optional<std::string> wire = hostname_to_wire(name);
  if (!wire) return {};
  Bytes query;
  query.reserve(kHeaderBytes + wire->size() + 4);
  auto put16 = [&query](std::uint16_t value) {
    query.push_back(static_cast<std::uint8_t>(value >> 8));
    query.push_back(static_cast<std::uint8_t>(value & 0xff));
  };
  put16(id);
  put16(kFlagRecursionDesired);
  put16(1);  // QDCOUNT
  put16(0);  // ANCOUNT
  put16(0);  // NSCOUNT
  put16(0);  // ARCOUNT
  append(query, as_bytes(*wire));
  put16(type);
  put16(kClassIn);
  return query;
}

Result<std::vector<std::string>> parse_dns_answer(ByteView message, std::uint16_t id,
                                                  std::string_view name, std::uint16_t type) {
  std::optional<std::string> query_name = hostname_to_wire(name);
  if (!query_name) return Status::error(ErrorCode::kInvalidArgument, "not a valid host name");
  if (type != kTypeA && type != kTypeAaaa) {
    return Status::error(ErrorCode::kInvalidArgument, "only A and AAAA answers are parsed");
  }
  Reader reader(message);
  std::size_t offset = 0;
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t answer_id, reader.u16(offset));
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t flags, reader.u16(offset));
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t question_count, reader.u16(offset));
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t answer_count, reader.u16(offset));
  // NSCOUNT, ARCOUNT: read for the bounds check only; those sections are not used.
  PARLEY_RETURN_IF_ERROR(reader.u32(offset).status());
  if (answer_id != id) return violation("is for another query (wrong id)");
  if ((flags & kFlagResponse) == 0) return violation("is not a response");
  if ((flags & kOpcodeMask) != 0) return violation("has an unexpected opcode");
  std::uint16_t rcode = flags & kRcodeMask;
  if (rcode == kRcodeNameError) {
    return Status::error(ErrorCode::kNotFound, "the name does not exist (NXDOMAIN)");
  }
  if (rcode != 0) {
    return Status::error(ErrorCode::kUnavailable,
                         "the DNS resolver failed the query (RCODE " + std::to_string(rcode) + ")");
  }

  if (question_count != 1) return violation("does not echo exactly one question");
  PARLEY_ASSIGN_OR_RETURN(std::string question_name, reader.name(offset));
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t question_type, reader.u16(offset));
  PARLEY_ASSIGN_OR_RETURN(std::uint16_t question_class, reader.u16(offset));
  if (question_name != *query_name || question_type != type || question_class != kClassIn) {
    return violation("is for another question");
  }

  std::vector<Record> records;
  records.reserve(std::min<std::size_t>(answer_count, 64));
  for (std::uint16_t i = 0; i < answer_count; ++i) {
    Record record;
    PARLEY_ASSIGN_OR_RETURN(record.owner, reader.name(offset));
    PARLEY_ASSIGN_OR_RETURN(record.type, reader.u16(offset));
    PARLEY_ASSIGN_OR_RETURN(std::uint16_t record_class, reader.u16(offset));
    PARLEY_ASSIGN_OR_RETURN(std::uint32_t ttl, reader.u32(offset));
    (void)ttl;  // callers do not cache
    PARLEY_ASSIGN_OR_RETURN(std::uint16_t length, reader.u16(offset));
    if (reader.size() - offset < length) return violation("has a record that runs past its end");
    std::size_t data_start = offset;
    offset += length;
    if (record_class != kClassIn) continue;
    record.data = message.subspan(data_start, length);
    if (record.type == kTypeCname) {
      std::size_t name_offset = data_start;
      PARLEY_ASSIGN_OR_RETURN(record.cname, reader.name(name_offset));
      if (name_offset != offset) return violation("has a CNAME whose length does not match");
    } else if (record.type == kTypeA && length != 4) {
      return violation("has an A record that is not 4 bytes");
    } else if (record.type == kTypeAaaa && length != 16) {
      return violation("has an AAAA record that is not 16 bytes");
    }
    records.push_back(std::move(record));
  }

  // Follow the CNAME chain from the queried name; the addresses belong to its last name.
  std::string current = *query_name;
  for (int hops = 0;; ++hops) {
    auto alias = std::find_if(records.begin(), records.end(), [&current](const Record& record) {
      return record.type == kTypeCname && record.owner == current;
    });
    if (alias == records.end()) break;
    if (hops == kMaxCnameHops) return violation("has a CNAME chain longer than 8");
    current = alias->cname;
  }

  std::vector<std::string> addresses;
  for (const Record& record : records) {
    if (record.type != type || record.owner != current) continue;
    std::string text = address_text(record.data);
    if (text.empty()) return Status::error(ErrorCode::kInternal, "inet_ntop failed");
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.push_back(std::move(text));
    }
  }
  if (addresses.empty()) {
    return Status::error(ErrorCode::kNotFound, "the name has no address records of that type");
  }
  return addresses;
}

}  // namespace parley::net
