// SPDX-License-Identifier: AGPL-3.0-or-later
// Conformance: the key directory (signed and one-time prekeys), on every backend.

#include <algorithm>
#include <mutex>
#include <thread>

#include "store_fixture.h"

namespace parley::store::testing {
namespace {

template <typename Backend>
class PrekeysTest : public StoreTest<Backend> {
 protected:
  void SetUp() override {
    StoreTest<Backend>::SetUp();
    this->create_account_with_devices(1, 2);
  }
};
TYPED_TEST_SUITE(PrekeysTest, Backends, BackendNames);

TYPED_TEST(PrekeysTest, SignedPrekeySetReplaceGet) {
  EXPECT_EQ(this->store().get_signed_prekey(address(1, 1)).status().code(), ErrorCode::kNotFound);
  SignedPrekey first{7, Bytes{1, 2}, Bytes{3, 4}};
  ASSERT_TRUE(this->store().set_signed_prekey(address(1, 1), first).ok());
  EXPECT_EQ(*this->store().get_signed_prekey(address(1, 1)), first);
  SignedPrekey second{8, Bytes{5}, Bytes{6}};
  ASSERT_TRUE(this->store().set_signed_prekey(address(1, 1), second).ok());
  EXPECT_EQ(*this->store().get_signed_prekey(address(1, 1)), second);
  EXPECT_EQ(this->store().get_signed_prekey(address(1, 2)).status().code(), ErrorCode::kNotFound);
}

TYPED_TEST(PrekeysTest, SignedPrekeyErrors) {
  EXPECT_EQ(this->store().set_signed_prekey(address(1, 9), {1, Bytes{1}, Bytes{1}}).code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->store().set_signed_prekey(address(1, 1), {1, Bytes{}, Bytes{1}}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(this->store().set_signed_prekey(address(1, 1), {1, Bytes{1}, Bytes{}}).code(),
            ErrorCode::kInvalidArgument);
}

TYPED_TEST(PrekeysTest, OneTimePrekeysAreClaimedLowestIdFirstAndOnlyOnce) {
  std::vector<OneTimePrekey> batch{{30, Bytes{3}}, {10, Bytes{1}}, {20, Bytes{2}}};
  ASSERT_TRUE(this->store().add_one_time_prekeys(address(1, 1), batch, 100).ok());
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 3u);
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 2)), 0u);
  for (std::uint32_t id : {10u, 20u, 30u}) {
    auto claimed = this->store().claim_one_time_prekey(address(1, 1));
    ASSERT_TRUE(claimed.ok());
    ASSERT_TRUE(claimed->has_value());
    EXPECT_EQ((*claimed)->key_id, id);
    EXPECT_EQ((*claimed)->public_key, Bytes{static_cast<std::uint8_t>(id / 10)});
  }
  auto none = this->store().claim_one_time_prekey(address(1, 1));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 0u);
}

TYPED_TEST(PrekeysTest, OneTimePrekeyCapAndReplacement) {
  std::vector<OneTimePrekey> batch{{1, Bytes{1}}, {2, Bytes{2}}};
  ASSERT_TRUE(this->store().add_one_time_prekeys(address(1, 1), batch, 3).ok());
  // Re-uploading id 2 replaces it and does not count twice.
  std::vector<OneTimePrekey> replace{{2, Bytes{9}}, {3, Bytes{3}}};
  ASSERT_TRUE(this->store().add_one_time_prekeys(address(1, 1), replace, 3).ok());
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 3u);
  std::vector<OneTimePrekey> over{{4, Bytes{4}}};
  EXPECT_EQ(this->store().add_one_time_prekeys(address(1, 1), over, 3).code(),
            ErrorCode::kResourceExhausted);
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 3u);
  ASSERT_TRUE(this->store().claim_one_time_prekey(address(1, 1)).ok());
  auto second = this->store().claim_one_time_prekey(address(1, 1));
  EXPECT_EQ((*second)->public_key, Bytes{9});
}

TYPED_TEST(PrekeysTest, OneTimePrekeyErrors) {
  std::vector<OneTimePrekey> ok{{1, Bytes{1}}};
  EXPECT_EQ(this->store().add_one_time_prekeys(address(1, 9), ok, 10).code(), ErrorCode::kNotFound);
  EXPECT_EQ(this->store().claim_one_time_prekey(address(1, 9)).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(this->store().count_one_time_prekeys(address(1, 9)).status().code(),
            ErrorCode::kNotFound);
  std::vector<OneTimePrekey> duplicate{{1, Bytes{1}}, {1, Bytes{2}}};
  EXPECT_EQ(this->store().add_one_time_prekeys(address(1, 1), duplicate, 10).code(),
            ErrorCode::kInvalidArgument);
  std::vector<OneTimePrekey> empty_key{{1, Bytes{}}};
  EXPECT_EQ(this->store().add_one_time_prekeys(address(1, 1), empty_key, 10).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 0u);
}

TYPED_TEST(PrekeysTest, ConcurrentClaimsHandOutEachKeyExactlyOnce) {
  constexpr std::uint32_t kKeys = 400;
  constexpr int kThreads = 8;
  std::vector<OneTimePrekey> batch;
  for (std::uint32_t id = 1; id <= kKeys; ++id) {
    batch.push_back({id, Bytes{static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8)}});
  }
  ASSERT_TRUE(this->store().add_one_time_prekeys(address(1, 1), batch, kKeys).ok());

  std::mutex mutex;
  std::vector<std::uint32_t> claimed;
  int errors = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // Each thread claims until the directory runs dry, so the threads race on every key.
      while (true) {
        auto prekey = this->store().claim_one_time_prekey(address(1, 1));
        std::lock_guard lock(mutex);
        if (!prekey.ok()) {
          ++errors;
          return;
        }
        if (!prekey->has_value()) return;
        claimed.push_back((*prekey)->key_id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(errors, 0);
  std::sort(claimed.begin(), claimed.end());
  ASSERT_EQ(claimed.size(), kKeys);  // every key handed out …
  for (std::uint32_t i = 0; i < kKeys; ++i) EXPECT_EQ(claimed[i], i + 1);  // … exactly once
  EXPECT_EQ(*this->store().count_one_time_prekeys(address(1, 1)), 0u);
}

}  // namespace
}  // namespace parley::store::testing
