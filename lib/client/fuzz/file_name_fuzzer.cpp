// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: attachment::sanitize_file_name(), which turns the file name a peer sent into
// the name a received file gets in the download directory. Whatever the input, the output must
// be one harmless path component:
//   - no '/' or '\\' (it cannot leave the directory);
//   - not "." or "..", and no leading '.' (no parent, no hidden file);
//   - no NUL or other control character (C0, DEL, C1), no bidirectional override or mark;
//   - valid UTF-8, 1 to 200 bytes;
// and sanitizing it again changes nothing. The checks decode UTF-8 on their own, so they do not
// share a bug with the code under test. Any violation aborts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../src/attachment_files.h"

namespace {

[[noreturn]] void violation() {
  __builtin_trap();
}

bool forbidden(char32_t c) {
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e ||
         c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

// Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF), every code point allowed.
void check_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    char32_t c = 0;
    if (b0 < 0x80) {
      n = 1;
      c = b0;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      n = 2;
      c = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      n = 3;
      c = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      n = 4;
      c = b0 & 0x07;
    } else {
      violation();
    }
    if (i + n > text.size()) violation();
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) violation();
      c = (c << 6) | (b & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff)) {
      violation();
    }
    if (forbidden(c)) violation();
    i += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  const std::string safe = parley::client::attachment::sanitize_file_name(name);

  if (safe.empty() || safe.size() > 200) violation();
  if (safe.find('/') != std::string::npos || safe.find('\\') != std::string::npos) violation();
  if (safe == "." || safe == ".." || safe.front() == '.') violation();
  check_utf8(safe);
  if (parley::client::attachment::sanitize_file_name(safe) != safe) violation();
  return 0;
}
