// SPDX-License-Identifier: AGPL-3.0-or-later
#include "qr_terminal.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parley::cli {
namespace {

// Splits rendered text into rows of glyphs and turns them back into module rows (true = inked).
std::vector<std::vector<bool>> unrender(const std::string& text, bool* only_known_glyphs) {
  std::vector<std::vector<bool>> modules;
  std::vector<bool> top;
  std::vector<bool> bottom;
  *only_known_glyphs = true;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\n') {
      modules.push_back(top);
      modules.push_back(bottom);
      top.clear();
      bottom.clear();
      ++i;
    } else if (text[i] == ' ') {
      top.push_back(false), bottom.push_back(false);
      ++i;
    } else if (text.compare(i, 3, "\u2588") == 0) {
      top.push_back(true), bottom.push_back(true);
      i += 3;
    } else if (text.compare(i, 3, "\u2580") == 0) {
      top.push_back(true), bottom.push_back(false);
      i += 3;
    } else if (text.compare(i, 3, "\u2584") == 0) {
      top.push_back(false), bottom.push_back(true);
      i += 3;
    } else {
      *only_known_glyphs = false;
      ++i;
    }
  }
  EXPECT_TRUE(top.empty()) << "the last line must end in a newline";
  return modules;
}

// The 7×7 finder pattern at (x, y): a dark ring, a light ring and a dark 3×3 centre.
bool finder_at(const QrMatrix& matrix, int x0, int y0) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      bool ring = x == 0 || y == 0 || x == 6 || y == 6;
      bool centre = x >= 2 && x <= 4 && y >= 2 && y <= 4;
      if (matrix.at(x0 + x, y0 + y) != (ring || centre)) return false;
    }
  }
  return true;
}

TEST(QrTerminalTest, EncodesTheSmallestVersionWithFinderPatterns) {
  auto matrix = qr_encode("hello");
  ASSERT_TRUE(matrix.ok()) << matrix.status().to_string();
  EXPECT_EQ(matrix->version, 1);
  EXPECT_EQ(matrix->size, 21);
  EXPECT_EQ(matrix->dark.size(), 21u * 21u);
  EXPECT_TRUE(finder_at(*matrix, 0, 0));
  EXPECT_TRUE(finder_at(*matrix, 14, 0));
  EXPECT_TRUE(finder_at(*matrix, 0, 14));
  EXPECT_FALSE(finder_at(*matrix, 14, 14));  // no finder in the bottom-right corner
}

TEST(QrTerminalTest, LongerTextNeedsALargerVersion) {
  std::string code(120, 'x');
  auto matrix = qr_encode(code);
  ASSERT_TRUE(matrix.ok());
  EXPECT_GT(matrix->version, 1);
  EXPECT_EQ(matrix->size, 17 + 4 * matrix->version);
}

TEST(QrTerminalTest, RendersASquareThatRoundTrips) {
  for (bool invert : {false, true}) {
    for (int quiet : {4, 1, 0}) {
      auto matrix = qr_encode("K7Q2-MX9P-4T8W-secret-part-0123456789");
      ASSERT_TRUE(matrix.ok());
      std::string text = render_half_blocks(*matrix, {.quiet_zone = quiet, .invert = invert});
      bool only_known = false;
      auto rows = unrender(text, &only_known);
      EXPECT_TRUE(only_known);
      const int total = matrix->size + 2 * quiet;
      // Two module rows per text line: ceil(total / 2) lines, the last bottom half padding.
      ASSERT_EQ(rows.size(), static_cast<std::size_t>((total + 1) / 2 * 2));
      for (int y = 0; y < static_cast<int>(rows.size()); ++y) {
        ASSERT_EQ(rows[y].size(), static_cast<std::size_t>(total)) << "row " << y;
        for (int x = 0; x < total; ++x) {
          int mx = x - quiet;
          int my = y - quiet;
          bool inside = mx >= 0 && my >= 0 && mx < matrix->size && my < matrix->size;
          bool dark = inside && matrix->at(mx, my);
          // Ink marks light modules (for light-on-dark terminals) unless inverted.
          EXPECT_EQ(rows[y][x], dark == invert)
              << "x=" << x << " y=" << y << " invert=" << invert << " quiet=" << quiet;
        }
      }
    }
  }
}

TEST(QrTerminalTest, QuietZoneIsLight) {
  auto text = qr_terminal("abc");
  ASSERT_TRUE(text.ok());
  // With the default (ink = light), the first two lines are the 4-module quiet zone: all ink.
  std::string full_row;
  for (int i = 0; i < 21 + 8; ++i) full_row += "\u2588";
  EXPECT_EQ(text->substr(0, full_row.size() + 1), full_row + "\n");
}

TEST(QrTerminalTest, RejectsEmptyAndOversized) {
  EXPECT_EQ(qr_encode("").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(qr_encode(std::string(4000, 'z')).status().code(), ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace parley::cli
