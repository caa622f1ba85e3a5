// SPDX-License-Identifier: AGPL-3.0-or-later
#include "errors.h"

#include <string_view>

namespace parley::cli {

bool is_network_error(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kConnectionClosed ||
         code == ErrorCode::kTimeout || code == ErrorCode::kStalled ||
         code == ErrorCode::kProxyFailed || code == ErrorCode::kRelayRefused;
}

int exit_code_for(const Status& status) {
  if (status.ok()) return kExitOk;
  return is_network_error(status.code()) ? kExitUnavailable : kExitFailure;
}

std::string error_line(const Status& status) {
  std::string_view sentence = status.message();
  if (sentence.empty()) sentence = error_code_description(status.code());
  std::string line = "parley: ";
  for (char c : sentence) {
    auto byte = static_cast<unsigned char>(c);
    line += (byte < 0x20 || byte == 0x7f) ? ' ' : c;
  }
  line += " (error ";
  line += std::to_string(static_cast<unsigned>(status.code()));
  line += ' ';
  line += error_code_name(status.code());
  line += ')';
  return line;
}

}  // namespace parley::cli
