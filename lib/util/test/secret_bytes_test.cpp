// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/util/secret_bytes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace parley {
namespace {

// Records every buffer the allocator released and whether it was all zeros at that moment.
struct WipeLog {
  static inline std::size_t released_bytes = 0;
  static inline std::size_t dirty_buffers = 0;

  static void observe(const std::uint8_t* data, std::size_t size) {
    released_bytes += size;
    if (!std::all_of(data, data + size, [](std::uint8_t b) { return b == 0; })) ++dirty_buffers;
  }
};

class SecretBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WipeLog::released_bytes = 0;
    WipeLog::dirty_buffers = 0;
    detail::set_wipe_observer_for_testing(&WipeLog::observe);
  }
  void TearDown() override { detail::set_wipe_observer_for_testing(nullptr); }
};

SecretBytes filled(std::size_t n, std::uint8_t value) {
  std::vector<std::uint8_t> plain(n, value);
  return SecretBytes(ByteView(plain));
}

TEST_F(SecretBytesTest, WipesOnDestruction) {
  { SecretBytes secret = filled(64, 0xAB); }
  EXPECT_GE(WipeLog::released_bytes, 64u);
  EXPECT_EQ(WipeLog::dirty_buffers, 0u);
}

TEST_F(SecretBytesTest, WipesOldBufferWhenGrowingReallocates) {
  SecretBytes secret = filled(16, 0x11);
  for (int i = 0; i < 20; ++i) secret.append(ByteView(filled(64, 0x22).view()));
  EXPECT_EQ(secret.size(), 16u + 20 * 64);
  EXPECT_GT(WipeLog::released_bytes, 16u);  // reallocations and the temporaries
  EXPECT_EQ(WipeLog::dirty_buffers, 0u);
}

TEST_F(SecretBytesTest, MoveLeavesSourceEmptyAndWipesOverwrittenValue) {
  SecretBytes a = filled(32, 0x5A);
  SecretBytes b = filled(48, 0x77);
  b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.size(), 32u);
  EXPECT_EQ(b[0], 0x5A);
  EXPECT_GE(WipeLog::released_bytes, 48u);  // b's old buffer
  EXPECT_EQ(WipeLog::dirty_buffers, 0u);

  SecretBytes c(std::move(b));
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.size(), 32u);
}

TEST_F(SecretBytesTest, ShrinkAndClearZeroTheTail) {
  SecretBytes secret = filled(8, 0xFF);
  std::uint8_t* raw = secret.data();
  secret.resize(4);
  // Capacity is kept, so the bytes beyond the new size are still ours to inspect.
  EXPECT_EQ(raw[4], 0);
  EXPECT_EQ(raw[7], 0);
  EXPECT_EQ(raw[3], 0xFF);
  secret.clear();
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(raw[0], 0);
}

TEST_F(SecretBytesTest, CloneIsIndependent) {
  SecretBytes a = filled(4, 1);
  SecretBytes b = a.clone();
  b[0] = 2;
  EXPECT_EQ(a[0], 1);
  EXPECT_FALSE(a == b);
}

TEST_F(SecretBytesTest, ConstantTimeEquality) {
  EXPECT_TRUE(filled(32, 9) == filled(32, 9));
  EXPECT_FALSE(filled(32, 9) == filled(32, 8));
  EXPECT_FALSE(filled(32, 9) == filled(31, 9));
  EXPECT_TRUE(SecretBytes() == SecretBytes());
  EXPECT_TRUE(SecretBytes(3).equals(Bytes{0, 0, 0}));
}

TEST(SecureWipe, ZeroesAndToleratesEmpty) {
  std::uint8_t buffer[5] = {1, 2, 3, 4, 5};
  secure_wipe(buffer, sizeof buffer);
  for (std::uint8_t b : buffer) EXPECT_EQ(b, 0);
  secure_wipe(nullptr, 0);
}

}  // namespace
}  // namespace parley
