// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/bytes.h"

namespace parley {

Bytes concat(std::initializer_list<ByteView> parts) {
  std::size_t total = 0;
  for (ByteView part : parts) total += part.size();
  Bytes out;
  out.reserve(total);
  for (ByteView part : parts) append(out, part);
  return out;
}

}  // namespace parley
