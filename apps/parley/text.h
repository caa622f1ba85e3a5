// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Text that came from other people, made safe to show: message bodies and usernames reach the
// terminal and JSON consumers, and a peer must not be able to send escape sequences that rewrite
// the screen, nor bytes that make our JSON invalid.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace parley::cli {

// Calls `emit` with each code point of `text`; each invalid UTF-8 sequence (bad lead byte,
// truncated, overlong, surrogate, above U+10FFFF) becomes one U+FFFD.
void for_each_code_point(std::string_view text, const std::function<void(char32_t)>& emit);

void append_utf8(std::string& out, char32_t code_point);

// For the terminal: valid UTF-8 where C0 controls (except '\n' and '\t' when `allow_newlines`),
// DEL, C1 controls and bidirectional overrides become U+FFFD. Without `allow_newlines`, '\n' and
// '\t' become spaces (for one-line fields like usernames).
std::string terminal_safe(std::string_view text, bool allow_newlines = true);

// Breaks `text` into lines of at most `width` bytes at spaces (a longer word stays whole), keeping
// the line breaks it has. For --help, whose descriptions sit in a column.
std::string wrap_words(std::string_view text, std::size_t width);

}  // namespace parley::cli
