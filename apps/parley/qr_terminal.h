// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// QR codes drawn with Unicode half blocks: each character cell holds two modules, one above the
// other, so a code is about square on a terminal whose cells are twice as tall as they are wide.

#include <string>
#include <string_view>
#include <vector>

#include "parley/util/status.h"

namespace parley::cli {

// A QR symbol: size × size modules, true = dark.
struct QrMatrix {
  int version = 0;
  int size = 0;  // 17 + 4 × version
  std::vector<bool> dark;
  bool at(int x, int y) const { return dark[static_cast<std::size_t>(y) * size + x]; }
};

// Encodes `data` as bytes (8-bit mode), error correction level M, the smallest version that fits.
// kTooLarge when it does not fit in version 40.
Result<QrMatrix> qr_encode(std::string_view data);

struct QrRenderOptions {
  int quiet_zone = 4;  // light modules around the symbol, as the QR standard asks
  // By default the light modules are drawn in the terminal's text colour, which is right for the
  // usual light-on-dark terminal (scanners need dark modules on a light background). For a dark-
  // on-light terminal set `invert`.
  bool invert = false;
};

// Lines of (size + 2 × quiet_zone) characters each, ceil((size + 2 × quiet_zone) / 2) of them,
// each ending in '\n', using only ' ', '▀', '▄' and '█'.
std::string render_half_blocks(const QrMatrix& matrix, const QrRenderOptions& options = {});

Result<std::string> qr_terminal(std::string_view data, const QrRenderOptions& options = {});

}  // namespace parley::cli
