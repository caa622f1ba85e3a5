// SPDX-License-Identifier: AGPL-3.0-or-later
#include "passphrase.h"

#include <fstream>
#include <iterator>

#include "parley/util/secret_bytes.h"

namespace parley::cli {

namespace {

// Passphrase files are small; a huge one is a mistake (a wrong path), not a passphrase.
constexpr std::size_t kMaxPassphraseBytes = 4096;

}  // namespace

std::string_view strip_final_newline(std::string_view text) {
  if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  }
  return text;
}

Result<std::optional<std::string>> load_passphrase(const std::optional<std::string>& file,
                                                   const client::EnvLookup& env) {
  std::string raw;
  std::string source;
  if (file) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      return Status::error(ErrorCode::kInvalidArgument, "cannot read the passphrase file " + *file);
    }
    raw.reserve(kMaxPassphraseBytes + 1);
    char c;
    while (raw.size() <= kMaxPassphraseBytes && in.get(c)) raw.push_back(c);
    if (raw.size() > kMaxPassphraseBytes) {
      secure_wipe(raw.data(), raw.size());
      return Status::error(ErrorCode::kTooLarge,
                           "the passphrase file " + *file + " is larger than 4096 bytes");
    }
    source = "the passphrase file " + *file;
  } else if (auto value = env("PARLEY_PASSPHRASE")) {
    raw = std::move(*value);
    source = "PARLEY_PASSPHRASE";
  } else {
    return std::optional<std::string>();
  }
  std::string passphrase(strip_final_newline(raw));
  secure_wipe(raw.data(), raw.size());
  if (passphrase.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, source + " is empty");
  }
  return std::optional<std::string>(std::move(passphrase));
}

}  // namespace parley::cli
