// SPDX-License-Identifier: AGPL-3.0-or-later
#include "qr_terminal.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace parley::cli {

namespace {

struct QrCodeDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

Result<QrMatrix> qr_encode(std::string_view data) {
  if (data.empty()) return Status::error(ErrorCode::kInvalidArgument, "nothing to encode");
  errno = 0;
  std::unique_ptr<QRcode, QrCodeDeleter> code(
      QRcode_encodeData(static_cast<int>(data.size()),
                        reinterpret_cast<const unsigned char*>(data.data()), 0, QR_ECLEVEL_M));
  if (!code) {
    if (errno == ERANGE) {
      return Status::error(ErrorCode::kTooLarge, "the text is too long for a QR code");
    }
    return Status::error(ErrorCode::kInternal, "the QR encoder failed");
  }
  QrMatrix matrix;
  matrix.version = code->version;
  matrix.size = code->width;
  matrix.dark.resize(static_cast<std::size_t>(code->width) * code->width);
  for (std::size_t i = 0; i < matrix.dark.size(); ++i) matrix.dark[i] = (code->data[i] & 1) != 0;
  return matrix;
}

std::string render_half_blocks(const QrMatrix& matrix, const QrRenderOptions& options) {
  const int quiet = options.quiet_zone < 0 ? 0 : options.quiet_zone;
  const int total = matrix.size + 2 * quiet;
  // Drawn ("inked") modules are the light ones unless inverted; outside the symbol is light.
  auto inked = [&](int x, int y) {
    int mx = x - quiet;
    int my = y - quiet;
    bool dark = mx >= 0 && my >= 0 && mx < matrix.size && my < matrix.size && matrix.at(mx, my);
    return dark == options.invert;
  };
  std::string out;
  for (int y = 0; y < total; y += 2) {
    for (int x = 0; x < total; ++x) {
      bool top = inked(x, y);
      bool bottom = y + 1 < total ? inked(x, y + 1) : inked(x, total);  // past the end: quiet
      if (top && bottom) {
        out += "\u2588";  // █
      } else if (top) {
        out += "\u2580";  // ▀
      } else if (bottom) {
        out += "\u2584";  // ▄
      } else {
        out += ' ';
      }
    }
    out += '\n';
  }
  return out;
}

Result<std::string> qr_terminal(std::string_view data, const QrRenderOptions& options) {
  PARLEY_ASSIGN_OR_RETURN(auto matrix, qr_encode(data));
  return render_half_blocks(matrix, options);
}

}  // namespace parley::cli
