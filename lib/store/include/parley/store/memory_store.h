// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// MemoryStore: the whole Store in process memory behind one mutex. For unit tests of the layers
// above (and as the reference the conformance tests hold every backend to). Nothing survives the
// object; stats() counts mutations and envelopes but no disk activity.

#include <memory>

#include "parley/store/store.h"

namespace parley::store {

class MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  Status create_account(const Account& account) override;
  Result<Account> get_account(const AccountId& id) const override;
  Result<Account> find_account_by_username(std::string_view username) const override;
  Result<Account> find_account_by_identity_key(ByteView identity_key) const override;
  Status set_username(const AccountId& id, std::optional<std::string_view> username) override;
  Status set_signed_device_list(const AccountId& id, ByteView signed_device_list) override;
  Status delete_account(const AccountId& id) override;

  Status add_device(const Device& device, std::uint32_t max_devices) override;
  Result<Device> get_device(const DeviceAddress& address) const override;
  Result<std::vector<Device>> list_devices(const AccountId& id) const override;
  Status touch_device(const DeviceAddress& address, std::int64_t last_seen_ms) override;
  Status remove_device(const DeviceAddress& address) override;

  Status set_signed_prekey(const DeviceAddress& address, const SignedPrekey& prekey) override;
  Result<SignedPrekey> get_signed_prekey(const DeviceAddress& address) const override;
  Status add_one_time_prekeys(const DeviceAddress& address, std::span<const OneTimePrekey> prekeys,
                              std::uint32_t max_stored) override;
  Result<std::optional<OneTimePrekey>> claim_one_time_prekey(const DeviceAddress& address) override;
  Result<std::uint64_t> count_one_time_prekeys(const DeviceAddress& address) const override;

  Result<AppendResult> append_messages(const AppendRequest& request) override;
  Result<std::vector<StoredEnvelope>> read_messages(const DeviceAddress& address,
                                                    std::uint64_t after_seq,
                                                    std::uint32_t max_count) const override;
  Result<std::uint64_t> delete_messages(const DeviceAddress& address,
                                        std::span<const std::uint64_t> seqs) override;
  Result<std::uint64_t> count_messages(const DeviceAddress& address) const override;
  Result<std::uint64_t> purge_messages_older_than(std::int64_t cutoff_ms) override;
  Result<std::uint64_t> purge_dedupe_keys_older_than(std::int64_t cutoff_ms) override;

  StoreStats stats() const override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace parley::store
