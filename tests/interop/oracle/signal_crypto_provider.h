// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The crypto provider libsignal-protocol-c calls for every primitive it does not implement itself:
// randomness (libsodium), HMAC-SHA256, SHA-512 and AES-CBC/CTR (OpenSSL 3 EVP).

#include <signal_protocol.h>

namespace parley::interop::detail {

// Installs the provider into `context`. Returns a libsignal error code (0 on success).
int install_crypto_provider(signal_context* context);

}  // namespace parley::interop::detail
