// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/store/records.h"

#include <gtest/gtest.h>

namespace parley::store {
namespace {

TEST(AccountIdTest, ParsesExactlySixteenBytes) {
  Bytes bytes(16);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
  Result<AccountId> id = account_id_from_bytes(bytes);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ((*id)[15], 15);
  EXPECT_EQ(account_id_from_bytes(Bytes(15)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(account_id_from_bytes(Bytes(17)).status().code(), ErrorCode::kInvalidArgument);
}

TEST(DeviceAddressTest, NamesDeviceAndAccountInHex) {
  DeviceAddress address{AccountId{0xab}, 7};
  EXPECT_EQ(to_string(address), "device 7 of account ab000000000000000000000000000000");
}

}  // namespace
}  // namespace parley::store
