// SPDX-License-Identifier: AGPL-3.0-or-later
// Key directory: uploads, bundles, one-time prekeys handed out once, the low-prekey push.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "test_harness.h"

namespace parley::server::testing {
namespace {

class KeysTest : public ::testing::Test, public CoreFixture {};

wire::Request bundle_request(const store::AccountId& account, std::uint32_t device = 0) {
  wire::Request r;
  r.mutable_get_prekey_bundle()->set_account_id(account_bytes(account));
  r.mutable_get_prekey_bundle()->set_device_id(device);
  return r;
}

TEST_F(KeysTest, UploadAndFetchABundle) {
  Client alice(*core), bob(*core);
  Identity a, b;
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  wire::Response uploaded = alice.upload_prekeys(a, 100, 20);
  ASSERT_EQ(status_of(uploaded), ErrorCode::kOk) << uploaded.message();
  EXPECT_EQ(uploaded.upload_prekeys().one_time_prekey_count(), 20u);

  wire::Response bundle = bob.call(bundle_request(a.account));
  ASSERT_EQ(status_of(bundle), ErrorCode::kOk) << bundle.message();
  ASSERT_EQ(bundle.get_prekey_bundle().devices_size(), 1);
  const auto& device = bundle.get_prekey_bundle().devices(0);
  EXPECT_EQ(device.device_id(), 1u);
  EXPECT_EQ(device.device_key(), std::string(as_string_view(a.key.public_key.serialize())));
  EXPECT_EQ(device.signed_prekey().public_key().size(), 33u);
  EXPECT_TRUE(device.has_one_time_prekey());
  EXPECT_EQ(device.one_time_prekey().key_id(), 100u);  // lowest id first
  EXPECT_EQ(store.count_one_time_prekeys({a.account, 1}).value(), 19u);
}

TEST_F(KeysTest, SignedPrekeyWithABadSignatureIsRefused) {
  Client alice(*core);
  Identity a, other;
  alice.sign_up_and_in(a);
  // Signed by a key that is not the device's.
  EXPECT_EQ(status_of(alice.upload_prekeys(other, 1, 0)), ErrorCode::kBadSignature);
  EXPECT_EQ(store.get_signed_prekey({a.account, 1}).status().code(), ErrorCode::kNotFound);
}

TEST_F(KeysTest, StoredOneTimePrekeysAreCapped) {
  auto config = test_config();
  config.max_stored_one_time_prekeys = 150;
  CoreFixture f(config);
  Client alice(*f.core);
  Identity a;
  alice.sign_up_and_in(a);
  ASSERT_EQ(status_of(alice.upload_prekeys(a, 0, 100)), ErrorCode::kOk);
  EXPECT_EQ(status_of(alice.upload_prekeys(a, 100, 100, false)), ErrorCode::kResourceExhausted);
  EXPECT_EQ(f.store.count_one_time_prekeys({a.account, 1}).value(), 100u);
}

TEST_F(KeysTest, BundleWithoutOneTimePrekeysStillHasTheSignedPrekey) {
  Client alice(*core), bob(*core);
  Identity a, b;
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  ASSERT_EQ(status_of(alice.upload_prekeys(a, 1, 0)), ErrorCode::kOk);
  wire::Response bundle = bob.call(bundle_request(a.account, 1));
  ASSERT_EQ(status_of(bundle), ErrorCode::kOk);
  EXPECT_FALSE(bundle.get_prekey_bundle().devices(0).has_one_time_prekey());
  EXPECT_EQ(status_of(bob.call(bundle_request(a.account, 9))), ErrorCode::kNotFound);
}

TEST_F(KeysTest, LowPrekeyCountIsPushedToTheOwner) {
  Client alice(*core), bob(*core);
  Identity a, b;
  alice.sign_up_and_in(a);
  bob.sign_up_and_in(b);
  ASSERT_EQ(status_of(alice.upload_prekeys(a, 1, 11)), ErrorCode::kOk);
  auto low_pushes = [&] {
    std::vector<std::uint64_t> counts;
    for (const auto& p : alice.pushes()) {
      if (p.has_prekeys_low()) counts.push_back(p.prekeys_low().one_time_prekey_count());
    }
    return counts;
  };
  ASSERT_EQ(status_of(bob.call(bundle_request(a.account))), ErrorCode::kOk);  // 10 left
  EXPECT_TRUE(low_pushes().empty());
  ASSERT_EQ(status_of(bob.call(bundle_request(a.account))), ErrorCode::kOk);  // 9 left
  EXPECT_EQ(low_pushes(), std::vector<std::uint64_t>{9});
}

TEST(KeysConcurrent, EachOneTimePrekeyIsHandedOutOnceAcrossConnections) {
  auto config = CoreFixture::test_config();
  config.worker_threads = 4;
  CoreFixture f(config);
  Client alice(*f.core);
  Identity a;
  alice.sign_up_and_in(a);
  constexpr std::uint32_t kKeys = 40;
  ASSERT_EQ(status_of(alice.upload_prekeys(a, 1, kKeys)), ErrorCode::kOk);

  constexpr int kFetchers = 8;
  constexpr int kFetchesEach = 8;  // 64 fetches for 40 keys
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Identity> ids(kFetchers);
  for (auto& id : ids) {
    clients.push_back(std::make_unique<Client>(*f.core));
    clients.back()->sign_up_and_in(id);
  }
  std::vector<std::vector<std::uint32_t>> got(kFetchers);
  std::vector<int> without(kFetchers, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kFetchers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kFetchesEach; ++i) {
        wire::Response r = clients[t]->call(bundle_request(a.account));
        if (status_of(r) != ErrorCode::kOk) continue;
        const auto& device = r.get_prekey_bundle().devices(0);
        if (device.has_one_time_prekey()) {
          got[t].push_back(device.one_time_prekey().key_id());
        } else {
          ++without[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::multiset<std::uint32_t> all;
  int empty = 0;
  for (int t = 0; t < kFetchers; ++t) {
    all.insert(got[t].begin(), got[t].end());
    empty += without[t];
  }
  EXPECT_EQ(all.size(), kKeys);                                              // every key handed out
  EXPECT_EQ(std::set<std::uint32_t>(all.begin(), all.end()).size(), kKeys);  // none twice
  EXPECT_EQ(empty, kFetchers * kFetchesEach - static_cast<int>(kKeys));
}

}  // namespace
}  // namespace parley::server::testing
