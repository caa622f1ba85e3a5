// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

namespace parley::crypto::detail {

// Initialises libsodium once (thread-safe); call before any libsodium function.
void ensure_sodium();

}  // namespace parley::crypto::detail
