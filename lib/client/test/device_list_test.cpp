// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/device_list.h"

#include <gtest/gtest.h>

#include "parley/client/content.pb.h"
#include "parley/crypto/random.h"

namespace parley::client {
namespace {

struct Fixture {
  crypto::KeyPair identity = crypto::KeyPair::generate();
  crypto::KeyPair second = crypto::KeyPair::generate();
  Bytes account = crypto::random_bytes(16);
  DeviceSet set() const {
    DeviceSet devices;
    devices.account_id = account;
    devices.version = 7;
    devices.timestamp_ms = 1'700'000'000'000;
    devices.devices[1] = identity.public_key;
    devices.devices[2] = second.public_key;
    return devices;
  }
};

TEST(DeviceListTest, SignedListVerifiesWithTheIdentityKey) {
  Fixture f;
  Bytes blob = sign_device_list(f.set(), f.identity.private_key);
  auto verified = verify_device_list(blob, f.identity.public_key, f.account);
  ASSERT_TRUE(verified.ok()) << verified.status().to_string();
  EXPECT_EQ(verified->version, 7u);
  ASSERT_EQ(verified->devices.size(), 2u);
  EXPECT_EQ(verified->devices.at(2), f.second.public_key);
}

TEST(DeviceListTest, RefusesOtherSignersAccountsTamperingAndGarbage) {
  Fixture f;
  Bytes blob = sign_device_list(f.set(), f.identity.private_key);
  auto other = crypto::KeyPair::generate();
  EXPECT_EQ(verify_device_list(blob, other.public_key, f.account).status().code(),
            ErrorCode::kDeviceListInvalid);
  EXPECT_EQ(
      verify_device_list(blob, f.identity.public_key, crypto::random_bytes(16)).status().code(),
      ErrorCode::kDeviceListInvalid);
  for (std::size_t i = 0; i < blob.size(); i += 7) {
    Bytes tampered = blob;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(verify_device_list(tampered, f.identity.public_key, f.account).ok()) << i;
  }
  EXPECT_EQ(verify_device_list({}, f.identity.public_key, f.account).status().code(),
            ErrorCode::kDeviceListInvalid);
  EXPECT_EQ(verify_device_list(Bytes(5000, 1), f.identity.public_key, f.account).status().code(),
            ErrorCode::kTooLarge);
}

TEST(DeviceListTest, DeviceOneMustBeTheIdentityKey) {
  Fixture f;
  DeviceSet wrong = f.set();
  wrong.devices[1] = f.second.public_key;  // signed by the identity, but lists another key as 1
  Bytes blob = sign_device_list(wrong, f.identity.private_key);
  EXPECT_EQ(verify_device_list(blob, f.identity.public_key, f.account).status().code(),
            ErrorCode::kDeviceListInvalid);
}

}  // namespace
}  // namespace parley::client
