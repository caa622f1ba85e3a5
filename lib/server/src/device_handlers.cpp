// SPDX-License-Identifier: AGPL-3.0-or-later
// Device linking with one-time codes, the signed device list, and device removal.
#include <algorithm>
#include <string>

#include "core_impl.h"
#include "parley/proto/signed_messages.h"

namespace parley::server {

Status ServerCore::Impl::create_link_code(RequestContext& ctx) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_primary(ctx));
  PARLEY_ASSIGN_OR_RETURN(std::string code,
                          link_codes.create(device.account_id, config.link_code_ttl));
  auto* body = ctx.response->mutable_create_link_code();
  body->set_code(code);
  body->set_expires_ms(unix_millis(clock.now() + config.link_code_ttl));
  return Status();
}

Status ServerCore::Impl::link_device(RequestContext& ctx, const wire::LinkDeviceRequest& r) {
  if (ctx.connection->device) {
    return Status::error(ErrorCode::kFailedPrecondition, "this connection is already signed in");
  }
  // A registry that cannot be reached answers its own error: the code may still be good.
  PARLEY_ASSIGN_OR_RETURN(std::optional<store::AccountId> account, link_codes.take(r.code()));
  if (!account) {
    return Status::error(ErrorCode::kChallengeInvalid,
                         "link code is unknown, already used or expired; ask for a new one");
  }
  PARLEY_RETURN_IF_ERROR(
      verify_signature(field_bytes(r.device_key()),
                       proto::link_signed_bytes(field_bytes(r.code()), field_bytes(r.device_key())),
                       field_bytes(r.signature())));
  store::Device device;
  device.account_id = *account;
  device.public_key = to_bytes(r.device_key());
  device.registration_id = r.registration_id();
  device.created_ms = now_ms();
  device.last_seen_ms = device.created_ms;
  // A concurrent link may take the same number: try the next one (the store checks both the
  // number and the device cap atomically).
  const Status full = Status::error(
      ErrorCode::kResourceExhausted,
      "the account already has " + std::to_string(config.max_devices_per_account) + " devices");
  Status added = full;
  for (int attempt = 0; attempt < 3; ++attempt) {
    PARLEY_ASSIGN_OR_RETURN(std::vector<store::Device> devices, store.list_devices(*account));
    if (devices.size() >= config.max_devices_per_account) {
      added = full;
      break;
    }
    store::DeviceId highest = 0;
    for (const auto& d : devices) highest = std::max(highest, d.device_id);
    device.device_id = highest + 1;
    added = store.add_device(device, config.max_devices_per_account);
    if (added.code() != ErrorCode::kAlreadyExists) break;
  }
  if (added.code() == ErrorCode::kResourceExhausted) return full;
  PARLEY_RETURN_IF_ERROR(added);
  auto* body = ctx.response->mutable_link_device();
  body->set_account_id(to_field(*account));
  body->set_device_id(device.device_id);
  ctx.after_response.push_back(
      [this, account = *account] { announce_device_list_changed(account); });
  return Status();
}

Status ServerCore::Impl::set_device_list(RequestContext& ctx, const wire::SetDeviceListRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_primary(ctx));
  PARLEY_RETURN_IF_ERROR(
      store.set_signed_device_list(device.account_id, field_bytes(r.signed_device_list())));
  ctx.response->mutable_set_device_list();
  return Status();
}

Status ServerCore::Impl::get_devices(RequestContext& ctx, const wire::GetDevicesRequest& r) {
  PARLEY_RETURN_IF_ERROR(require_device(ctx));
  PARLEY_ASSIGN_OR_RETURN(store::AccountId id,
                          store::account_id_from_bytes(field_bytes(r.account_id())));
  PARLEY_ASSIGN_OR_RETURN(store::Account account, store.get_account(id));
  PARLEY_ASSIGN_OR_RETURN(std::vector<store::Device> devices, store.list_devices(id));
  auto* body = ctx.response->mutable_get_devices();
  body->set_identity_key(to_field(account.identity_key));
  body->set_signed_device_list(to_field(account.signed_device_list));  // as uploaded
  for (const auto& d : devices) {
    auto* info = body->add_devices();
    info->set_device_id(d.device_id);
    info->set_device_key(to_field(d.public_key));
    info->set_registration_id(d.registration_id);
  }
  return Status();
}

Status ServerCore::Impl::remove_device(RequestContext& ctx, const wire::RemoveDeviceRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress primary, require_primary(ctx));
  if (r.device_id() == store::kPrimaryDeviceId) {
    return Status::error(ErrorCode::kFailedPrecondition,
                         "the primary device cannot be removed; delete the account instead");
  }
  store::DeviceAddress target{primary.account_id, r.device_id()};
  PARLEY_RETURN_IF_ERROR(store.remove_device(target));
  ctx.response->mutable_remove_device();
  ctx.after_response.push_back([this, target] {
    announce_device_removed(target);
    announce_device_list_changed(target.account_id);
  });
  return Status();
}

}  // namespace parley::server
