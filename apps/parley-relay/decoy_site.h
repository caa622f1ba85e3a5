// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the static decoy site answers, without any networking: the built-in homepage or the
// operator's --decoy-dir files. relay_server.cpp turns a DecoyPage into Beast's response, so this
// stays plain C++ (and unit-testable) while Beast stays in one translation unit.

#include <optional>
#include <string>
#include <string_view>

namespace parley::relay {

// Sent (with Connection: close) for a request the HTTP parser rejects, like most servers do.
inline constexpr std::string_view kBadRequestHtml =
    "<html><head><title>400 Bad Request</title></head><body><h1>Bad Request</h1></body></html>\n";

struct DecoyPage {
  unsigned status = 200;        // the HTTP status code
  bool allow_get_head = false;  // a 405: the response names GET and HEAD in Allow
  std::string content_type;
  std::string body;  // a GET's body; the caller empties it for HEAD after setting the length
};

// The page for a request: `get_or_head` false gets a 405; `decoy_dir` empty serves the built-in
// homepage, else the file for `target` in that directory (its 404.html, if any, for the rest).
DecoyPage decoy_page(const std::string& decoy_dir, bool get_or_head, std::string_view target);

// The Content-Type for a file, by its extension.
std::string content_type_of(const std::string& path);

// The file for a request target in `dir`, or nullopt (see decoy_site.cpp for what is allowed).
std::optional<std::string> decoy_file(const std::string& dir, std::string_view target);

}  // namespace parley::relay
