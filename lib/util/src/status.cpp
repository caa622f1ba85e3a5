// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/status.h"

namespace parley {

std::string Status::to_string() const {
  std::string out = "E" + std::to_string(static_cast<unsigned>(code_)) + " ";
  out += error_code_name(code_);
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  if (!message_.empty()) {
    message += ": ";
    message += message_;
  }
  return Status(code_, std::move(message));
}

}  // namespace parley
