// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pg_sql.h"

#include <algorithm>

namespace parley::store::pg {
namespace {

constexpr std::size_t kCopySize = kAccountIdSize + 4 + 8;

void put_be(Bytes& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint64_t get_be(const std::uint8_t* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

}  // namespace

Bytes bytes_of(const pqxx::field& field) {
  if (field.is_null()) return {};
  pqxx::binarystring value(field);
  return Bytes(value.begin(), value.end());
}

AccountId account_id_of(const pqxx::field& field) {
  AccountId id{};
  pqxx::binarystring value(field);
  if (value.size() == id.size()) std::copy(value.begin(), value.end(), id.begin());
  return id;
}

void ArrayLiteral::separate() {
  if (text_.size() > 1) text_ += ',';
}

void ArrayLiteral::add_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  separate();
  if (bytes.empty()) {
    text_ += "\"\"";  // an unquoted empty element is not valid array syntax
    return;
  }
  for (std::uint8_t b : bytes) {
    text_ += kDigits[b >> 4];
    text_ += kDigits[b & 0x0f];
  }
}

void ArrayLiteral::add_int(std::int64_t value) {
  separate();
  text_ += std::to_string(value);
}

void ArrayLiteral::add_null() {
  separate();
  text_ += "NULL";
}

Bytes encode_copies(const std::vector<DeliveredCopy>& copies) {
  Bytes out;
  out.reserve(copies.size() * kCopySize);
  for (const DeliveredCopy& copy : copies) {
    out.insert(out.end(), copy.recipient.account_id.begin(), copy.recipient.account_id.end());
    put_be(out, copy.recipient.device_id, 4);
    put_be(out, copy.seq, 8);
  }
  return out;
}

std::vector<DeliveredCopy> decode_copies(ByteView encoded) {
  std::vector<DeliveredCopy> copies;
  for (std::size_t at = 0; at + kCopySize <= encoded.size(); at += kCopySize) {
    DeliveredCopy copy;
    std::copy_n(encoded.data() + at, kAccountIdSize, copy.recipient.account_id.begin());
    copy.recipient.device_id =
        static_cast<DeviceId>(get_be(encoded.data() + at + kAccountIdSize, 4));
    copy.seq = get_be(encoded.data() + at + kAccountIdSize + 4, 8);
    copies.push_back(copy);
  }
  return copies;
}

}  // namespace parley::store::pg
