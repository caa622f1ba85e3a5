// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/redis/keys.h"

#include "parley/util/encoding.h"

namespace parley::redis {
namespace {

std::string tagged(std::string_view prefix, ByteView account_id, std::uint32_t device_id) {
  return std::string(prefix) + "{" + hex_encode(account_id) + "." + std::to_string(device_id) + "}";
}

}  // namespace

std::string presence_key(ByteView account_id, std::uint32_t device_id) {
  return tagged("p:", account_id, device_id);
}

std::string wakeup_channel(ByteView account_id, std::uint32_t device_id) {
  return tagged("w:", account_id, device_id);
}

std::string rate_limit_key(ByteView key, std::string_view name) {
  return "rl:{" + hex_encode(key) + "}:" + std::string(name);
}

std::string link_code_key(std::string_view code) {
  return "lc:" + std::string(code);
}

std::string link_code_account_key(ByteView account_id) {
  return "lca:{" + hex_encode(account_id) + "}";
}

}  // namespace parley::redis
