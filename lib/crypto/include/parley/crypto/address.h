// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Who a session or sender key belongs to.

#include <compare>
#include <cstdint>
#include <string>

namespace parley::crypto {

// One device of one account.
struct ProtocolAddress {
  std::string name;
  std::uint32_t device_id = 0;

  friend bool operator==(const ProtocolAddress&, const ProtocolAddress&) = default;
  // clang-tidy 14 misreads defaulted <=> as a literal-0 comparison.
  friend auto operator<=>(const ProtocolAddress&,
                          const ProtocolAddress&) = default;  // NOLINT(modernize-use-nullptr)
};

// One sender's chain in one group.
struct SenderKeyName {
  std::string group_id;
  ProtocolAddress sender;

  friend bool operator==(const SenderKeyName&, const SenderKeyName&) = default;
  friend auto operator<=>(const SenderKeyName&,
                          const SenderKeyName&) = default;  // NOLINT(modernize-use-nullptr)
};

}  // namespace parley::crypto
