// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// QR codes for the screen (safety numbers, link codes, relay links), drawn with libqrencode.

#include <QByteArray>
#include <QImage>

namespace parley::desktop {

// Black modules on white, `module_pixels` per module, with the standard 4-module quiet zone;
// error correction level M, 8-bit mode; Format_Grayscale8 (0 dark, 255 light). A null QImage when
// the data is empty or does not fit a QR code (more than 2331 bytes), or `module_pixels` is
// outside 1..100.
QImage qr_image(const QByteArray& data, int module_pixels = 6);

// The module count per side of qr_image(data)'s code (without the quiet zone); 0 on failure.
int qr_modules(const QByteArray& data);

}  // namespace parley::desktop
