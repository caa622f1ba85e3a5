// SPDX-License-Identifier: AGPL-3.0-or-later
#include "text.h"

namespace parley::cli {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool is_continuation(unsigned char byte) {
  return (byte & 0xC0) == 0x80;
}

}  // namespace

void for_each_code_point(std::string_view text, const std::function<void(char32_t)>& emit) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      emit(lead);
      ++i;
      continue;
    }
    std::size_t length;
    char32_t code_point;
    char32_t minimum;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, minimum = 0x10000;
    } else {
      emit(kReplacement);  // a stray continuation byte or 0xF8..0xFF
      ++i;
      continue;
    }
    std::size_t consumed = 1;
    while (consumed < length && i + consumed < text.size() &&
           is_continuation(static_cast<unsigned char>(text[i + consumed]))) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(text[i + consumed]) & 0x3F);
      ++consumed;
    }
    i += consumed;
    if (consumed < length || code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      emit(kReplacement);
    } else {
      emit(code_point);
    }
  }
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string terminal_safe(std::string_view text, bool allow_newlines) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t c) {
    if (c == '\n' || c == '\t') {
      out += allow_newlines ? static_cast<char>(c) : ' ';
      return;
    }
    bool control = c < 0x20 || (c >= 0x7F && c <= 0x9F);
    // Bidirectional embeddings, overrides and isolates can make a text display as another.
    bool bidi = (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
    append_utf8(out, control || bidi ? kReplacement : c);
  });
  return out;
}

std::string wrap_words(std::string_view text, std::size_t width) {
  std::string out;
  std::size_t line_start = 0;  // where the current output line begins in `out`
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t end = text.find_first_of(" \n", i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(i, end - i);
    if (!word.empty()) {
      std::size_t line_length = out.size() - line_start;
      if (line_length > 0 && line_length + 1 + word.size() > width) {
        out += '\n';
        line_start = out.size();
      } else if (line_length > 0) {
        out += ' ';
      }
      out += word;
    }
    if (end < text.size() && text[end] == '\n') {
      out += '\n';
      line_start = out.size();
    }
    i = end + 1;
  }
  return out;
}

}  // namespace parley::cli
