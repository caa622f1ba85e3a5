// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sodium.h"

#include <sodium.h>

#include <cstdlib>

namespace parley::crypto::detail {

void ensure_sodium() {
  // A function-local static is initialised exactly once even with concurrent callers.
  static const bool initialised = [] {
    // Without a working random source no key can be made safely: stop rather than continue.
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)initialised;
}

}  // namespace parley::crypto::detail
