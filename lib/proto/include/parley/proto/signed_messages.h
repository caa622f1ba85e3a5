// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The exact bytes a client signs (XEdDSA) in the sign-up, authentication and linking requests.
// Each starts with its own context string so a signature made for one purpose is never valid for
// another.

#include <cstdint>

#include "parley/util/bytes.h"

namespace parley::proto {

// "parley-register-v1" || challenge || identity_key
Bytes registration_signed_bytes(ByteView challenge, ByteView identity_key);

// "parley-auth-v1" || challenge || account_id || device_id (4 bytes big-endian)
Bytes auth_signed_bytes(ByteView challenge, ByteView account_id, std::uint32_t device_id);

// "parley-link-v1" || code || device_key
Bytes link_signed_bytes(ByteView code, ByteView device_key);

}  // namespace parley::proto
