// SPDX-License-Identifier: AGPL-3.0-or-later
// Linking devices with one-time codes, the signed device list, removing devices.
#include <gtest/gtest.h>

#include "test_harness.h"

namespace parley::server::testing {
namespace {

class DeviceTest : public ::testing::Test, public CoreFixture {
 protected:
  std::string link_code(Client& primary) {
    wire::Request r;
    r.mutable_create_link_code();
    wire::Response response = primary.call(r);
    EXPECT_EQ(status_of(response), ErrorCode::kOk) << response.message();
    return response.create_link_code().code();
  }
};

TEST_F(DeviceTest, LinkCodeAddsADeviceOnce) {
  Client primary(*core), second(*core), third(*core);
  Identity a, b, c;
  primary.sign_up_and_in(a);
  std::string code = link_code(primary);
  EXPECT_EQ(code.size(), 16u);
  wire::Response linked = second.link_device(b, code);
  ASSERT_EQ(status_of(linked), ErrorCode::kOk) << linked.message();
  EXPECT_EQ(b.account, a.account);
  EXPECT_EQ(b.device, 2u);
  EXPECT_EQ(store.get_device({a.account, 2})->public_key, b.key.public_key.serialize());
  // The new device authenticates with its own key.
  EXPECT_EQ(status_of(second.authenticate(b)), ErrorCode::kOk);
  // Single use.
  EXPECT_EQ(status_of(third.link_device(c, code)), ErrorCode::kChallengeInvalid);
  // The primary hears that its device list changed.
  bool changed = false;
  for (const auto& p : primary.pushes()) changed |= p.has_device_list_changed();
  EXPECT_TRUE(changed);
}

TEST_F(DeviceTest, LinkCodeExpires) {
  Client primary(*core), second(*core);
  Identity a, b;
  primary.sign_up_and_in(a);
  std::string code = link_code(primary);
  clock.advance(std::chrono::seconds(601));
  EXPECT_EQ(status_of(second.link_device(b, code)), ErrorCode::kChallengeInvalid);
}

TEST_F(DeviceTest, LinkNeedsTheNewDevicesSignature) {
  Client primary(*core), second(*core), third(*core);
  Identity a, b;
  primary.sign_up_and_in(a);
  std::string code = link_code(primary);
  wire::Request r;
  auto* link = r.mutable_link_device();
  link->set_code(code);
  link->set_device_key(std::string(as_string_view(b.key.public_key.serialize())));
  link->set_signature(std::string(64, 's'));
  EXPECT_EQ(status_of(second.call(r)), ErrorCode::kBadSignature);
  // The attempt spent the code.
  EXPECT_EQ(status_of(third.link_device(b, code)), ErrorCode::kChallengeInvalid);
}

TEST_F(DeviceTest, AtMostSixDevices) {
  Client primary(*core);
  Identity a;
  primary.sign_up_and_in(a);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 2; i <= 6; ++i) {
    clients.push_back(std::make_unique<Client>(*core));
    Identity d;
    ASSERT_EQ(status_of(clients.back()->link_device(d, link_code(primary))), ErrorCode::kOk);
    EXPECT_EQ(d.device, static_cast<std::uint32_t>(i));
  }
  Client seventh(*core);
  Identity d;
  wire::Response refused = seventh.link_device(d, link_code(primary));
  EXPECT_EQ(status_of(refused), ErrorCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("6 devices"), std::string::npos);
  EXPECT_EQ(store.list_devices(a.account)->size(), 6u);
}

TEST_F(DeviceTest, OnlyThePrimaryCreatesLinkCodes) {
  Client primary(*core), second(*core);
  Identity a, b;
  primary.sign_up_and_in(a);
  ASSERT_EQ(status_of(second.link_device(b, link_code(primary))), ErrorCode::kOk);
  ASSERT_EQ(status_of(second.authenticate(b)), ErrorCode::kOk);
  wire::Request r;
  r.mutable_create_link_code();
  EXPECT_EQ(status_of(second.call(r)), ErrorCode::kPermissionDenied);
}

TEST_F(DeviceTest, SignedDeviceListIsServedAsIs) {
  Client primary(*core), second(*core), reader(*core);
  Identity a, b, r;
  primary.sign_up_and_in(a);
  ASSERT_EQ(status_of(second.link_device(b, link_code(primary))), ErrorCode::kOk);
  std::string list("\x00\x01opaque signed list\xff", 21);
  wire::Request set;
  set.mutable_set_device_list()->set_signed_device_list(list);
  ASSERT_EQ(status_of(primary.call(set)), ErrorCode::kOk);

  reader.sign_up_and_in(r);
  wire::Request get;
  get.mutable_get_devices()->set_account_id(account_bytes(a.account));
  wire::Response devices = reader.call(get);
  ASSERT_EQ(status_of(devices), ErrorCode::kOk);
  EXPECT_EQ(devices.get_devices().signed_device_list(), list);
  EXPECT_EQ(devices.get_devices().identity_key(),
            std::string(as_string_view(a.key.public_key.serialize())));
  ASSERT_EQ(devices.get_devices().devices_size(), 2);
  EXPECT_EQ(devices.get_devices().devices(1).device_id(), 2u);
  EXPECT_EQ(devices.get_devices().devices(1).device_key(),
            std::string(as_string_view(b.key.public_key.serialize())));

  // Only the primary device may replace it.
  ASSERT_EQ(status_of(second.authenticate(b)), ErrorCode::kOk);
  EXPECT_EQ(status_of(second.call(set)), ErrorCode::kPermissionDenied);
}

TEST_F(DeviceTest, RemoveDeviceClosesItAndDropsItsData) {
  Client primary(*core), second(*core);
  Identity a, b;
  primary.sign_up_and_in(a);
  ASSERT_EQ(status_of(second.link_device(b, link_code(primary))), ErrorCode::kOk);
  ASSERT_EQ(status_of(second.authenticate(b)), ErrorCode::kOk);
  wire::Request remove;
  remove.mutable_remove_device()->set_device_id(2);
  ASSERT_EQ(status_of(primary.call(remove)), ErrorCode::kOk);
  EXPECT_EQ(second.sink().close_reason(), ErrorCode::kConnectionClosed);
  EXPECT_EQ(store.get_device({a.account, 2}).status().code(), ErrorCode::kNotFound);
  remove.mutable_remove_device()->set_device_id(1);
  EXPECT_EQ(status_of(primary.call(remove)), ErrorCode::kFailedPrecondition);
}

}  // namespace
}  // namespace parley::server::testing
