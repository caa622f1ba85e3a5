// SPDX-License-Identifier: AGPL-3.0-or-later
#include "core/qr_image.h"

#include <qrencode.h>

#include <algorithm>
#include <memory>

namespace parley::desktop {

namespace {

constexpr int kQuietZoneModules = 4;   // ISO/IEC 18004: a scanner needs 4 light modules around
constexpr int kMaxModulePixels = 100;  // keeps the side (at most 185 modules) far from overflow

struct QrFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrPtr = std::unique_ptr<QRcode, QrFree>;

QrPtr encode(const QByteArray& data) {
  if (data.isEmpty()) return nullptr;
  // Version 0: the smallest symbol that holds the data; 8-bit mode keeps binary bytes as they
  // are. Fails (null) when the data exceeds version 40 at level M (2331 bytes).
  return QrPtr(QRcode_encodeData(static_cast<int>(data.size()),
                                 reinterpret_cast<const unsigned char*>(data.constData()), 0,
                                 QR_ECLEVEL_M));
}

}  // namespace

QImage qr_image(const QByteArray& data, int module_pixels) {
  if (module_pixels < 1 || module_pixels > kMaxModulePixels) return QImage();
  const QrPtr code = encode(data);
  if (!code) return QImage();
  const int modules = code->width;
  const int side = (modules + 2 * kQuietZoneModules) * module_pixels;
  QImage image(side, side, QImage::Format_Grayscale8);
  if (image.isNull()) return QImage();  // too large to allocate
  image.fill(255);
  for (int y = 0; y < modules; ++y) {
    for (int x = 0; x < modules; ++x) {
      // libqrencode: bit 0 of each module byte is dark/light; the other bits say what it is.
      if ((code->data[y * modules + x] & 1) == 0) continue;
      const int top = (y + kQuietZoneModules) * module_pixels;
      const int left = (x + kQuietZoneModules) * module_pixels;
      for (int py = top; py < top + module_pixels; ++py) {
        uchar* line = image.scanLine(py);
        std::fill(line + left, line + left + module_pixels, uchar{0});
      }
    }
  }
  return image;
}

int qr_modules(const QByteArray& data) {
  const QrPtr code = encode(data);
  return code ? code->width : 0;
}

}  // namespace parley::desktop
