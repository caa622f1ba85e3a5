// SPDX-License-Identifier: AGPL-3.0-or-later
// Sign-up (proof of work), device authentication, usernames and account deletion.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core_impl.h"
#include "parley/crypto/random.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"
#include "parley/proto/username.h"

namespace parley::server {
namespace {

Challenge fresh_challenge(const Clock& clock, std::chrono::seconds ttl) {
  return Challenge{crypto::random_bytes(proto::kChallengeSize), clock.monotonic_now() + ttl};
}

std::int64_t expiry_ms(const Clock& clock, std::chrono::seconds ttl) {
  return unix_millis(clock.now() + ttl);
}

// Single use: the slot is emptied whether or not the presented value matches.
Status take_challenge(std::optional<Challenge>& slot, const std::string& presented,
                      MonotonicTime now) {
  std::optional<Challenge> challenge = std::exchange(slot, std::nullopt);
  if (!challenge || now >= challenge->expires ||
      as_bytes(presented).size() != challenge->value.size() ||
      presented != as_string_view(challenge->value)) {
    return Status::error(ErrorCode::kChallengeInvalid,
                         "challenge is unknown, already used or expired; request a new one");
  }
  return Status();
}

}  // namespace

Status ServerCore::Impl::registration_challenge(RequestContext& ctx) {
  if (ctx.connection->device) {
    return Status::error(ErrorCode::kFailedPrecondition, "this connection is already signed in");
  }
  // Every sign-up starts with a challenge, so counting challenges counts sign-up attempts.
  PARLEY_RETURN_IF_ERROR(check_rate(limiters.signups_per_ip, "signups_per_ip",
                                    "sign-ups per address", ctx.connection->ip_key));
  Challenge challenge = fresh_challenge(clock, config.registration_challenge_ttl);
  challenge.difficulty_bits = pow_difficulty_bits.load();
  auto* body = ctx.response->mutable_registration_challenge();
  body->set_challenge(to_field(challenge.value));
  body->set_difficulty_bits(challenge.difficulty_bits);
  body->set_expires_ms(expiry_ms(clock, config.registration_challenge_ttl));
  ctx.connection->registration_challenge = std::move(challenge);
  return Status();
}

Status ServerCore::Impl::create_account(RequestContext& ctx, const wire::CreateAccountRequest& r) {
  if (ctx.connection->device) {
    return Status::error(ErrorCode::kFailedPrecondition, "this connection is already signed in");
  }
  // The difficulty the challenge was handed out with, even if it changed since.
  const std::uint32_t difficulty = ctx.connection->registration_challenge
                                       ? ctx.connection->registration_challenge->difficulty_bits
                                       : 0;
  PARLEY_RETURN_IF_ERROR(
      take_challenge(ctx.connection->registration_challenge, r.challenge(), clock.monotonic_now()));
  if (!proto::pow_is_valid(field_bytes(r.challenge()), field_bytes(r.pow_nonce()), difficulty)) {
    return Status::error(
        ErrorCode::kBadProofOfWork,
        "proof of work needs " + std::to_string(difficulty) + " leading zero bits");
  }
  Bytes signed_bytes =
      proto::registration_signed_bytes(field_bytes(r.challenge()), field_bytes(r.identity_key()));
  PARLEY_RETURN_IF_ERROR(
      verify_signature(field_bytes(r.identity_key()), signed_bytes, field_bytes(r.signature())));

  store::Account account;
  Bytes id = crypto::random_bytes(store::kAccountIdSize);
  std::copy(id.begin(), id.end(), account.id.begin());
  account.identity_key = to_bytes(r.identity_key());
  if (!r.username().empty()) {
    PARLEY_ASSIGN_OR_RETURN(std::string username, proto::normalize_username(r.username()));
    account.username = std::move(username);
  }
  account.created_ms = now_ms();

  Status created = store.create_account(account);
  if (created.code() == ErrorCode::kAlreadyExists) {
    // An account without any device can only be the remains of a sign-up interrupted between its
    // two writes (account, then primary device); the key's owner may claim it again.
    auto existing = store.find_account_by_identity_key(account.identity_key);
    if (existing.ok()) {
      auto devices = store.list_devices(existing->id);
      if (devices.ok() && devices->empty() && store.delete_account(existing->id).ok()) {
        created = store.create_account(account);
      }
    }
  }
  // The store says which unique value is taken, without naming it.
  PARLEY_RETURN_IF_ERROR(created);

  store::Device primary;
  primary.account_id = account.id;
  primary.device_id = store::kPrimaryDeviceId;
  primary.public_key = account.identity_key;
  primary.registration_id = r.registration_id();
  primary.created_ms = account.created_ms;
  primary.last_seen_ms = account.created_ms;
  if (Status added = store.add_device(primary, config.max_devices_per_account); !added.ok()) {
    (void)store.delete_account(account.id);  // best effort; a leftover is reclaimed (above)
    return added;
  }
  auto* body = ctx.response->mutable_create_account();
  body->set_account_id(to_field(account.id));
  body->set_device_id(store::kPrimaryDeviceId);
  return Status();
}

Status ServerCore::Impl::auth_challenge(RequestContext& ctx) {
  if (ctx.connection->device) {
    return Status::error(ErrorCode::kFailedPrecondition, "this connection is already signed in");
  }
  Challenge challenge = fresh_challenge(clock, config.auth_challenge_ttl);
  auto* body = ctx.response->mutable_auth_challenge();
  body->set_challenge(to_field(challenge.value));
  body->set_expires_ms(expiry_ms(clock, config.auth_challenge_ttl));
  ctx.connection->auth_challenge = std::move(challenge);
  return Status();
}

Status ServerCore::Impl::authenticate(RequestContext& ctx, const wire::AuthenticateRequest& r) {
  if (ctx.connection->device) {
    return Status::error(ErrorCode::kFailedPrecondition, "this connection is already signed in");
  }
  PARLEY_RETURN_IF_ERROR(
      take_challenge(ctx.connection->auth_challenge, r.challenge(), clock.monotonic_now()));
  PARLEY_ASSIGN_OR_RETURN(store::AccountId account,
                          store::account_id_from_bytes(field_bytes(r.account_id())));
  store::DeviceAddress address{account, r.device_id()};
  auto device = store.get_device(address);
  if (!device.ok()) {
    if (device.status().code() == ErrorCode::kNotFound) {
      return Status::error(ErrorCode::kNotFound, "no such device");
    }
    return device.status();
  }
  Bytes signed_bytes = proto::auth_signed_bytes(field_bytes(r.challenge()),
                                                field_bytes(r.account_id()), r.device_id());
  PARLEY_RETURN_IF_ERROR(
      verify_signature(device->public_key, signed_bytes, field_bytes(r.signature())));

  ctx.connection->device = address;
  (void)store.touch_device(address, now_ms());  // informational only
  auto queued = store.count_messages(address);
  ctx.response->mutable_authenticate()->set_queued_messages(queued.ok() ? *queued : 0);
  if (queued.ok()) {
    metrics.observe("parley_mailbox_depth_on_connect", "", static_cast<double>(*queued));
  }
  if (r.delivery_window_bytes() != 0) {
    std::lock_guard lock(ctx.connection->delivery_mutex());
    ctx.connection->delivery().window_bytes =
        std::clamp<std::size_t>(r.delivery_window_bytes(), 1024, config.delivery_window_bytes);
  }
  start_delivery(ctx.connection);
  return Status();
}

Status ServerCore::Impl::set_username(RequestContext& ctx, const wire::SetUsernameRequest& r) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_primary(ctx));
  if (r.username().empty()) {
    PARLEY_RETURN_IF_ERROR(store.set_username(device.account_id, std::nullopt));
    ctx.response->mutable_set_username();
    return Status();
  }
  PARLEY_ASSIGN_OR_RETURN(std::string username, proto::normalize_username(r.username()));
  Status status = store.set_username(device.account_id, username);
  if (status.code() == ErrorCode::kAlreadyExists) {
    return Status::error(ErrorCode::kAlreadyExists, "username is taken");
  }
  PARLEY_RETURN_IF_ERROR(status);
  ctx.response->mutable_set_username()->set_username(username);
  return Status();
}

Status ServerCore::Impl::lookup_username(RequestContext& ctx,
                                         const wire::LookupUsernameRequest& r) {
  PARLEY_RETURN_IF_ERROR(require_device(ctx));
  PARLEY_ASSIGN_OR_RETURN(std::string username, proto::normalize_username(r.username()));
  auto account = store.find_account_by_username(username);
  if (!account.ok()) {
    if (account.status().code() == ErrorCode::kNotFound) {
      return Status::error(ErrorCode::kNotFound, "no account has this username");
    }
    return account.status();
  }
  auto* body = ctx.response->mutable_lookup_username();
  body->set_account_id(to_field(account->id));
  body->set_identity_key(to_field(account->identity_key));
  return Status();
}

Status ServerCore::Impl::delete_account(RequestContext& ctx) {
  PARLEY_ASSIGN_OR_RETURN(store::DeviceAddress device, require_primary(ctx));
  // Listed first: once deleted, nothing says which devices other nodes must close.
  std::vector<store::DeviceAddress> devices;
  if (config.cluster_bus) {
    PARLEY_ASSIGN_OR_RETURN(std::vector<store::Device> listed,
                            store.list_devices(device.account_id));
    for (const auto& d : listed) devices.push_back(d.address());
  }
  PARLEY_RETURN_IF_ERROR(store.delete_account(device.account_id));
  // Best effort: a code left behind expires, and linking with it fails on the missing account.
  (void)link_codes.erase_account(device.account_id);
  ctx.response->mutable_delete_account();
  ctx.after_response.push_back(
      [this, account = device.account_id, devices = std::move(devices),
       self = ctx.connection.get()] { announce_account_deleted(account, devices, self); });
  ctx.close_after = ErrorCode::kConnectionClosed;
  return Status();
}

}  // namespace parley::server
