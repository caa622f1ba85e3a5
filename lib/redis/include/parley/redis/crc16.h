// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Redis Cluster key slots (https://redis.io/docs/reference/cluster-spec/#key-distribution-model).
//
// A key belongs to slot CRC16(key) mod 16384, where CRC16 is CRC-16/XMODEM (polynomial 0x1021,
// initial value 0, no reflection). When the key holds a non-empty "{hash tag}" — the text between
// the first '{' and the first '}' after it — only the tag is hashed, so keys that share a tag share
// a slot and can be used together in one multi-key command or Lua script.

#include <cstdint>
#include <string_view>

namespace parley::redis {

inline constexpr std::uint16_t kSlotCount = 16384;

// CRC-16/XMODEM of `data`: crc16("123456789") == 0x31C3.
std::uint16_t crc16(std::string_view data);

// The part of `key` that is hashed: its first non-empty {hash tag}, or the whole key.
std::string_view hash_tag(std::string_view key);

// The cluster slot of `key`, in [0, kSlotCount).
std::uint16_t key_slot(std::string_view key);

}  // namespace parley::redis
