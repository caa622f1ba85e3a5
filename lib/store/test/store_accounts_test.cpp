// SPDX-License-Identifier: AGPL-3.0-or-later
// Conformance: accounts, unique indexes and devices, on every backend.

#include "store_fixture.h"

namespace parley::store::testing {
namespace {

template <typename Backend>
class AccountsTest : public StoreTest<Backend> {};
TYPED_TEST_SUITE(AccountsTest, Backends, BackendNames);

TYPED_TEST(AccountsTest, CreateAndReadBackByIdUsernameAndIdentityKey) {
  Account account = make_account(1, "alice");
  ASSERT_TRUE(this->store().create_account(account).ok());
  EXPECT_EQ(*this->store().get_account(account.id), account);
  EXPECT_EQ(*this->store().find_account_by_username("alice"), account);
  EXPECT_EQ(*this->store().find_account_by_identity_key(account.identity_key), account);
}

TYPED_TEST(AccountsTest, AccountWithoutUsername) {
  Account account = make_account(1);
  ASSERT_TRUE(this->store().create_account(account).ok());
  EXPECT_EQ(*this->store().get_account(account.id), account);
  EXPECT_FALSE(this->store().get_account(account.id)->username.has_value());
}

TYPED_TEST(AccountsTest, MissingAccountsAreNotFound) {
  EXPECT_EQ(this->store().get_account(account_id(7)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().find_account_by_username("nobody").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().find_account_by_identity_key(Bytes(33, 7)).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->store().set_username(account_id(7), "x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().set_signed_device_list(account_id(7), Bytes{1}).code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->store().delete_account(account_id(7)).code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().list_devices(account_id(7)).status().code(), ErrorCode::kNotFound);
}

TYPED_TEST(AccountsTest, RejectsDuplicateIdIdentityKeyAndUsername) {
  ASSERT_TRUE(this->store().create_account(make_account(1, "alice")).ok());

  Account same_id = make_account(2);
  same_id.id = account_id(1);
  EXPECT_EQ(this->store().create_account(same_id).code(), ErrorCode::kAlreadyExists);

  Account same_key = make_account(2);
  same_key.identity_key = make_account(1).identity_key;
  EXPECT_EQ(this->store().create_account(same_key).code(), ErrorCode::kAlreadyExists);

  EXPECT_EQ(this->store().create_account(make_account(2, "alice")).code(),
            ErrorCode::kAlreadyExists);
  // None of the refused accounts left anything behind.
  EXPECT_EQ(this->store().get_account(account_id(2)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().find_account_by_username("alice")->id, account_id(1));
}

TYPED_TEST(AccountsTest, RejectsEmptyIdentityKeyAndEmptyUsername) {
  Account no_key = make_account(1);
  no_key.identity_key.clear();
  EXPECT_EQ(this->store().create_account(no_key).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->store().create_account(make_account(1, "")).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(this->store().create_account(make_account(1)).ok());
  EXPECT_EQ(this->store().set_username(account_id(1), "").code(), ErrorCode::kInvalidArgument);
}

TYPED_TEST(AccountsTest, SetUsernameMovesTheIndexAtomically) {
  ASSERT_TRUE(this->store().create_account(make_account(1, "alice")).ok());
  ASSERT_TRUE(this->store().create_account(make_account(2, "bob")).ok());

  ASSERT_TRUE(this->store().set_username(account_id(1), "alicia").ok());
  EXPECT_EQ(this->store().find_account_by_username("alicia")->id, account_id(1));
  EXPECT_EQ(this->store().find_account_by_username("alice").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().get_account(account_id(1))->username, "alicia");

  // Taken by someone else: refused, nothing changes.
  EXPECT_EQ(this->store().set_username(account_id(1), "bob").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(this->store().get_account(account_id(1))->username, "alicia");
  EXPECT_EQ(this->store().find_account_by_username("bob")->id, account_id(2));

  // Setting one's own name again is fine.
  EXPECT_TRUE(this->store().set_username(account_id(1), "alicia").ok());

  // The released name is free for others.
  ASSERT_TRUE(this->store().set_username(account_id(2), "alice").ok());
  EXPECT_EQ(this->store().find_account_by_username("alice")->id, account_id(2));
  EXPECT_EQ(this->store().find_account_by_username("bob").status().code(), ErrorCode::kNotFound);
}

TYPED_TEST(AccountsTest, ClearUsername) {
  ASSERT_TRUE(this->store().create_account(make_account(1, "alice")).ok());
  ASSERT_TRUE(this->store().set_username(account_id(1), std::nullopt).ok());
  EXPECT_FALSE(this->store().get_account(account_id(1))->username.has_value());
  EXPECT_EQ(this->store().find_account_by_username("alice").status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(this->store().create_account(make_account(2, "alice")).ok());
}

TYPED_TEST(AccountsTest, SetSignedDeviceList) {
  ASSERT_TRUE(this->store().create_account(make_account(1)).ok());
  ASSERT_TRUE(this->store().set_signed_device_list(account_id(1), Bytes{7, 8, 9}).ok());
  EXPECT_EQ(this->store().get_account(account_id(1))->signed_device_list, (Bytes{7, 8, 9}));
}

TYPED_TEST(AccountsTest, AddListGetTouchAndRemoveDevices) {
  ASSERT_TRUE(this->store().create_account(make_account(1)).ok());
  ASSERT_TRUE(this->store().add_device(make_device(1, 3), 5).ok());
  ASSERT_TRUE(this->store().add_device(make_device(1, 1), 5).ok());
  auto devices = this->store().list_devices(account_id(1));
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0], make_device(1, 1));  // ordered by device id
  EXPECT_EQ((*devices)[1], make_device(1, 3));

  ASSERT_TRUE(this->store().touch_device(address(1, 3), 42).ok());
  EXPECT_EQ(this->store().get_device(address(1, 3))->last_seen_ms, 42);

  ASSERT_TRUE(this->store().remove_device(address(1, 3)).ok());
  EXPECT_EQ(this->store().get_device(address(1, 3)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().remove_device(address(1, 3)).code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().touch_device(address(1, 3), 1).code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().list_devices(account_id(1))->size(), 1u);
}

TYPED_TEST(AccountsTest, AddDeviceErrors) {
  EXPECT_EQ(this->store().add_device(make_device(1, 1), 5).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(this->store().create_account(make_account(1)).ok());
  ASSERT_TRUE(this->store().add_device(make_device(1, 1), 2).ok());
  EXPECT_EQ(this->store().add_device(make_device(1, 1), 2).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(this->store().add_device(make_device(1, 0), 2).code(), ErrorCode::kInvalidArgument);
  Device no_key = make_device(1, 2);
  no_key.public_key.clear();
  EXPECT_EQ(this->store().add_device(no_key, 2).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(this->store().add_device(make_device(1, 2), 2).ok());
  EXPECT_EQ(this->store().add_device(make_device(1, 3), 2).code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(this->store().list_devices(account_id(1))->size(), 2u);
}

TYPED_TEST(AccountsTest, DevicesOfOtherAccountsAreSeparate) {
  this->create_account_with_devices(1, 2);
  this->create_account_with_devices(2, 3);
  EXPECT_EQ(this->store().list_devices(account_id(1))->size(), 2u);
  EXPECT_EQ(this->store().list_devices(account_id(2))->size(), 3u);
}

TYPED_TEST(AccountsTest, DeleteAccountRemovesEverythingItOwns) {
  this->create_account_with_devices(1, 2, "alice");
  this->create_account_with_devices(2, 1, "bob");
  for (DeviceId d : {1u, 2u}) {
    ASSERT_TRUE(this->store().set_signed_prekey(address(1, d), {1, Bytes{1}, Bytes{2}}).ok());
    std::vector<OneTimePrekey> prekeys{{1, Bytes{1}}, {2, Bytes{2}}};
    ASSERT_TRUE(this->store().add_one_time_prekeys(address(1, d), prekeys, 100).ok());
  }
  AppendRequest request;
  request.envelopes = {envelope_to(address(1, 1), "a"), envelope_to(address(1, 2), "b"),
                       envelope_to(address(2, 1), "c")};
  ASSERT_TRUE(this->store().append_messages(request).ok());

  ASSERT_TRUE(this->store().delete_account(account_id(1)).ok());

  EXPECT_EQ(this->store().get_account(account_id(1)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().find_account_by_username("alice").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(
      this->store().find_account_by_identity_key(make_account(1).identity_key).status().code(),
      ErrorCode::kNotFound);
  EXPECT_EQ(this->store().list_devices(account_id(1)).status().code(), ErrorCode::kNotFound);
  for (DeviceId d : {1u, 2u}) {
    EXPECT_EQ(this->store().get_device(address(1, d)).status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(this->store().get_signed_prekey(address(1, d)).status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(*this->store().count_messages(address(1, d)), 0u);
    EXPECT_TRUE(this->store().read_messages(address(1, d), 0, 10)->empty());
  }
  // The other account is untouched, and the freed name and key can be registered again.
  EXPECT_EQ(*this->store().count_messages(address(2, 1)), 1u);
  EXPECT_EQ(this->store().find_account_by_username("bob")->id, account_id(2));
  ASSERT_TRUE(this->store().create_account(make_account(1, "alice")).ok());
  // A re-created device starts empty.
  ASSERT_TRUE(this->store().add_device(make_device(1, 1), 5).ok());
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 0u);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 0u);
}

TYPED_TEST(AccountsTest, RemoveDeviceRemovesItsKeysAndMailbox) {
  this->create_account_with_devices(1, 2);
  ASSERT_TRUE(this->store().set_signed_prekey(address(1, 2), {1, Bytes{1}, Bytes{2}}).ok());
  std::vector<OneTimePrekey> prekeys{{1, Bytes{1}}};
  ASSERT_TRUE(this->store().add_one_time_prekeys(address(1, 2), prekeys, 100).ok());
  AppendRequest request;
  request.envelopes = {envelope_to(address(1, 1), "a"), envelope_to(address(1, 2), "b")};
  ASSERT_TRUE(this->store().append_messages(request).ok());

  ASSERT_TRUE(this->store().remove_device(address(1, 2)).ok());
  ASSERT_TRUE(this->store().add_device(make_device(1, 2), 5).ok());
  EXPECT_EQ(this->store().get_signed_prekey(address(1, 2)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 2)), 0u);
  EXPECT_EQ(*this->store().count_messages(address(1, 2)), 0u);
  EXPECT_EQ(*this->store().count_messages(address(1, 1)), 1u);
}

}  // namespace
}  // namespace parley::store::testing
