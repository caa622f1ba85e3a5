// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Internals of relay_handshake.cpp, visible to its unit test.

#include <string_view>

namespace parley::net::detail {

// Equal length and equal bytes; the bytes are compared in constant time (CRYPTO_memcmp), so the
// time taken says nothing about how much of a guessed secret was right. Counts its calls in
// secret_compare_count() so the test can see the constant-time path was taken.
bool secret_equal(std::string_view a, std::string_view b);

// How often secret_equal() ran in this process (test hook).
unsigned long secret_compare_count();

}  // namespace parley::net::detail
