// SPDX-License-Identifier: AGPL-3.0-or-later
#include "args.h"

#include <charconv>
#include <iterator>
#include <limits>

#include "passphrase.h"

namespace parley::cli {

namespace {

bool all_whitespace(const std::string& text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

}  // namespace

Result<std::string> message_text(const std::vector<std::string>& words, std::istream& in) {
  std::string text;
  bool from_stdin = words.empty() || (words.size() == 1 && words[0] == "-");
  if (from_stdin) {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Status::error(ErrorCode::kStorageIo, "cannot read the message from stdin");
    text = std::string(strip_final_newline(text));
  } else {
    for (const std::string& word : words) {
      if (!text.empty()) text += ' ';
      text += word;
    }
  }
  if (all_whitespace(text)) {
    return Status::error(ErrorCode::kInvalidArgument, from_stdin
                                                          ? "the message read from stdin is empty"
                                                          : "the message is empty");
  }
  return text;
}

Status validate_server(const std::string& server) {
  auto bad = [&](const std::string& why) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "'" + server + "' is not a server address (HOST:PORT): " + why);
  };
  auto colon = server.rfind(':');
  if (colon == std::string::npos) return bad("the port is missing");
  std::string host = server.substr(0, colon);
  std::string port = server.substr(colon + 1);
  if (host.empty()) return bad("the host is missing");
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("an IPv6 address goes in [brackets]");
  } else if (host.find(':') != std::string::npos) {
    return bad("put an IPv6 address in [brackets]");
  }
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == '@') {
      return bad("the host has a character that cannot be in a host name");
    }
  }
  unsigned value = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return bad("the port must be a number from 1 to 65535");
  }
  return Status();
}

Status validate_pin(const std::string& pin) {
  std::size_t digits = 0;
  for (char c : pin) {
    if (c == ':') continue;
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "the --pin fingerprint must be hex digits (':' between pairs allowed)");
    }
    ++digits;
  }
  if (digits != 64) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "the --pin fingerprint must be a SHA-256: 64 hex digits, got " + std::to_string(digits));
  }
  return Status();
}

Result<std::uint32_t> parse_device_id(const std::string& text) {
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "'" + text + "' is not a device id (a number like 2; see `parley whoami`)");
  }
  return value;
}

}  // namespace parley::cli
