// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Conversions between the store's records and PostgreSQL values. Single byte values travel as
// binary parameters (pqxx::binarystring); batches travel as one array parameter per column, with
// bytes hex-encoded and decoded by the statement (decode(x, 'hex')), so a whole batch is one
// round trip.

#include <cstdint>
#include <pqxx/binarystring>
#include <pqxx/field>
#include <string>
#include <vector>

#include "parley/store/records.h"
#include "parley/util/bytes.h"

namespace parley::store::pg {

inline pqxx::binarystring bin(ByteView bytes) {
  return pqxx::binarystring(bytes.data(), bytes.size());
}
inline pqxx::binarystring bin(const AccountId& id) {
  return pqxx::binarystring(id.data(), id.size());
}

Bytes bytes_of(const pqxx::field& field);
// An account id column; a value of another size (not written by this store) reads as all zeros.
AccountId account_id_of(const pqxx::field& field);

// A PostgreSQL array literal ("{…}") built element by element, for `$n::text[]` / `$n::bigint[]`.
class ArrayLiteral {
 public:
  void add_hex(ByteView bytes);  // for text[] decoded with decode(x, 'hex')
  void add_int(std::int64_t value);
  void add_null();
  std::string str() const { return text_ + "}"; }
  bool empty() const { return text_.size() == 1; }

 private:
  void separate();
  std::string text_ = "{";
};

// The original copies of a deduplicated append: (account id | device id | seq) big-endian each.
Bytes encode_copies(const std::vector<DeliveredCopy>& copies);
std::vector<DeliveredCopy> decode_copies(ByteView encoded);

// Clamps an unsigned count or sequence number into bigint range.
inline std::int64_t to_bigint(std::uint64_t value) {
  return value > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX
                                                       : static_cast<std::int64_t>(value);
}

}  // namespace parley::store::pg
