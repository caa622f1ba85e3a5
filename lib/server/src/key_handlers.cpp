// SPDX-License-Identifier: AGPL-3.0-or-later
// Key directory: signed and one-time prekey uploads, bundle fetches, the low-prekey signal.
#include <string>
#include <vector>

#include "core_impl.h"

namespace parley::server {
namespace {

void fill_signed_prekey(wire::SignedPrekey* out, const store::SignedPrekey& in) {
  out->set_key_id(in.key_id);
  out->set_public_key(to_field(in.public_key));
  out->set_signature(to_field(in.signature));
}

}  // namespace

Status ServerCore::Impl::upload_prekeys(RequestContext& ctx, const wire::UploadPrekeysRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_device(ctx));
  if (r.has_signed_prekey()) {
    // Checked here so a bad upload fails for its uploader, not later for every sender.
    PARLEY_ASSIGN_OR_RETURN(store::Device self, store.get_device(device));
    const auto& spk = r.signed_prekey();
    Status verified = verify_signature(self.public_key, field_bytes(spk.public_key()),
                                       field_bytes(spk.signature()));
    if (!verified.ok()) {
      return Status::error(ErrorCode::kBadSignature,
                           "signed prekey signature does not verify with the device key");
    }
    PARLEY_RETURN_IF_ERROR(store.set_signed_prekey(
        device,
        store::SignedPrekey{spk.key_id(), to_bytes(spk.public_key()), to_bytes(spk.signature())}));
  }
  if (r.one_time_prekeys_size() > 0) {
    std::vector<store::OneTimePrekey> keys;
    keys.reserve(static_cast<std::size_t>(r.one_time_prekeys_size()));
    for (const auto& key : r.one_time_prekeys()) {
      keys.push_back(store::OneTimePrekey{key.key_id(), to_bytes(key.public_key())});
    }
    Status added = store.add_one_time_prekeys(device, keys, config.max_stored_one_time_prekeys);
    if (added.code() == ErrorCode::kResourceExhausted) {
      return Status::error(ErrorCode::kResourceExhausted,
                           "a device may store at most " +
                               std::to_string(config.max_stored_one_time_prekeys) +
                               " one-time prekeys");
    }
    PARLEY_RETURN_IF_ERROR(added);
  }
  PARLEY_ASSIGN_OR_RETURN(std::uint64_t count, store.count_one_time_prekeys(device));
  ctx.response->mutable_upload_prekeys()->set_one_time_prekey_count(count);
  return Status();
}

Status ServerCore::Impl::get_prekey_bundle(RequestContext& ctx,
                                           const wire::GetPrekeyBundleRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress requester, require_device(ctx));
  PARLEY_ASSIGN_OR_RETURN(store::AccountId id,
                          store::account_id_from_bytes(field_bytes(r.account_id())));
  // Each fetch hands out one-time prekeys, which protect the first message of a session: limit
  // how fast one account fetches, how often it fetches one target, and how fast a target's keys
  // go to everyone together, so nobody can drain another account's supply.
  const std::string from = to_field(requester.account_id);
  const std::string target = to_field(id);
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.prekey_fetches_per_account,
                                    "prekey_fetches_per_account", "prekey fetches per account",
                                    from));
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.prekey_fetches_per_pair, "prekey_fetches_per_pair",
                                    "prekey fetches of one account by one account", from + target));
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.prekey_fetches_per_target, "prekey_fetches_per_target",
                                    "prekey fetches of one account by everyone", target));
  PARLEY_ASSIGN_OR_RETURN(store::Account account, store.get_account(id));
  PARLEY_ASSIGN_OR_RETURN(std::vector<store::Device> devices, store.list_devices(id));
  if (r.device_id() != 0) {
    std::erase_if(devices, [&](const store::Device& d) { return d.device_id != r.device_id(); });
    if (devices.empty()) return Status::error(ErrorCode::kNotFound, "no such device");
  }
  auto* body = ctx.response->mutable_get_prekey_bundle();
  body->set_identity_key(to_field(account.identity_key));
  std::vector<std::pair<store::DeviceAddress, std::uint64_t>> low;
  for (const auto& device : devices) {
    auto spk = store.get_signed_prekey(device.address());
    if (!spk.ok()) {
      // A device that has not uploaded keys yet cannot be reached; others still can.
      if (spk.status().code() == ErrorCode::kNotFound && r.device_id() == 0) continue;
      if (spk.status().code() == ErrorCode::kNotFound) {
        return Status::error(ErrorCode::kNotFound, "the device has no signed prekey yet");
      }
      return spk.status();
    }
    auto* bundle = body->add_devices();
    bundle->set_device_id(device.device_id);
    bundle->set_registration_id(device.registration_id);
    bundle->set_device_key(to_field(device.public_key));
    fill_signed_prekey(bundle->mutable_signed_prekey(), *spk);
    // Atomic in the store: each one-time prekey is handed out at most once.
    PARLEY_ASSIGN_OR_RETURN(std::optional<store::OneTimePrekey> otk,
                            store.claim_one_time_prekey(device.address()));
    if (otk) {
      bundle->mutable_one_time_prekey()->set_key_id(otk->key_id);
      bundle->mutable_one_time_prekey()->set_public_key(to_field(otk->public_key));
    }
    auto remaining = store.count_one_time_prekeys(device.address());
    if (remaining.ok() && *remaining < config.low_prekey_threshold) {
      low.emplace_back(device.address(), *remaining);
    }
  }
  if (!low.empty()) {
    ctx.after_response.push_back([this, low = std::move(low)] {
      for (const auto& [address, count] : low) announce_prekeys_low(address, count);
    });
  }
  return Status();
}

}  // namespace parley::server
