// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// AES-256-CBC with PKCS#7 padding, as the Signal message format uses it (always paired with an
// HMAC or a signature checked before decrypting).

#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::crypto {

inline constexpr std::size_t kAes256KeySize = 32;
inline constexpr std::size_t kAesCbcIvSize = 16;

// kInvalidArgument for a wrong key or IV size.
Result<Bytes> aes256_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext);

// kDecryptFailed for a ciphertext that is not a whole number of blocks or has bad padding;
// kInvalidArgument for a wrong key or IV size.
Result<SecretBytes> aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext);

}  // namespace parley::crypto
