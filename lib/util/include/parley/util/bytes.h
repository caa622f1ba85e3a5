// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Plain (non-secret) byte buffers and views. Secrets use SecretBytes (secret_bytes.h) instead.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline Bytes to_bytes(std::string_view text) {
  ByteView view = as_bytes(text);
  return Bytes(view.begin(), view.end());
}

inline std::string_view as_string_view(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Concatenates views into one buffer: concat({version, body, mac}).
Bytes concat(std::initializer_list<ByteView> parts);

// Appends `part` to `out`.
inline void append(Bytes& out, ByteView part) {
  out.insert(out.end(), part.begin(), part.end());
}

}  // namespace parley
