// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/proto/signed_messages.h"

namespace parley::proto {

Bytes registration_signed_bytes(ByteView challenge, ByteView identity_key) {
  return concat({as_bytes("parley-register-v1"), challenge, identity_key});
}

Bytes auth_signed_bytes(ByteView challenge, ByteView account_id, std::uint32_t device_id) {
  const std::uint8_t id[4] = {
      static_cast<std::uint8_t>(device_id >> 24), static_cast<std::uint8_t>(device_id >> 16),
      static_cast<std::uint8_t>(device_id >> 8), static_cast<std::uint8_t>(device_id)};
  return concat({as_bytes("parley-auth-v1"), challenge, account_id, ByteView(id, 4)});
}

Bytes link_signed_bytes(ByteView code, ByteView device_key) {
  return concat({as_bytes("parley-link-v1"), code, device_key});
}

}  // namespace parley::proto
