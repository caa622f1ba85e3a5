// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Contacts: who a username names, the identity key we pinned for each account (trust on first
// use, loud warnings on change), and each account's device set as its primary signed it.

#include <algorithm>

#include "client_impl.h"
#include "parley/proto/username.h"

namespace parley::client {

std::string Client::Impl::display_name(ByteView account_id) {
  auto contact = store->contact(account_id);
  if (contact.ok() && *contact && !(*contact)->username.empty()) return (*contact)->username;
  return hex_id(account_id).substr(0, 12);
}

namespace {

Event identity_changed_event(const Contact& contact, const std::string& why) {
  Event event;
  event.kind = Event::Kind::kIdentityChanged;
  event.peer_username = contact.username;
  event.peer_account_hex = hex_id(contact.account_id);
  event.code = ErrorCode::kUntrustedIdentity;
  event.body = why;
  return event;
}

}  // namespace

// No request can change an account's identity key, so another key for an account we pinned is
// the server (or someone in front of it) lying: refuse, keep the pinned key, and say so loudly.
// Adopting the new key would let a malicious server read whatever is queued for the contact.
Status Client::Impl::server_swapped_identity(const Contact& contact) {
  std::string who = contact.username.empty() ? hex_id(contact.account_id) : contact.username;
  Status refused = Status::error(
      ErrorCode::kUntrustedIdentity,
      "the server reports a different identity key for " + who +
          "'s account, which no Parley server may do; nothing was sent to it. The server may be "
          "attacking this conversation");
  emit(identity_changed_event(contact, refused.message()));
  return refused;
}

Result<Contact> Client::Impl::contact_for_username(const std::string& username,
                                                   bool allow_network) {
  PARLEY_ASSIGN_OR_RETURN(std::string name, proto::normalize_username(username));
  PARLEY_ASSIGN_OR_RETURN(auto known, store->contact_by_username(name));
  if (!allow_network || offline) {
    if (known) return std::move(*known);
    return Status::error(ErrorCode::kNotFound,
                         name +
                             " is not a contact yet; look them up while connected (`parley "
                             "lookup " +
                             name + "`)");
  }
  wire::Request request;
  request.mutable_lookup_username()->set_username(name);
  auto found = call(std::move(request));
  if (!found.ok() && known && is_network_error(found.status().code())) {
    return std::move(*known);  // offline: the pinned contact is still right to write to
  }
  if (!found.ok()) {
    if (found.status().code() == ErrorCode::kNotFound) {
      return Status::error(ErrorCode::kNotFound, "there is no Parley user named " + name);
    }
    return found.status();
  }
  Bytes account_id = to_bytes(found->lookup_username().account_id());
  Bytes identity_key = to_bytes(found->lookup_username().identity_key());
  std::int64_t now = now_ms();

  if (known && same_bytes(known->account_id, account_id)) {
    if (same_bytes(known->identity_key, identity_key)) return std::move(*known);
    return server_swapped_identity(*known);
  }

  // The name is new to us, or it now names another account than before (a new install or a
  // new owner of the name): the old contact keeps its history under its account.
  PARLEY_ASSIGN_OR_RETURN(auto by_account, store->contact(account_id));
  Contact contact = by_account ? std::move(*by_account) : Contact{};
  bool first_sight = !by_account.has_value();
  contact.account_id = account_id;
  contact.username = name;
  if (first_sight) contact.identity_key = identity_key;
  contact.updated_ms = now;
  if (known) {
    Contact previous = std::move(*known);
    bool was_verified = previous.verified;
    previous.username.clear();
    previous.updated_ms = now;
    PARLEY_RETURN_IF_ERROR(store->save_contact(previous));
    contact.identity_changed = true;
    contact.verified = was_verified;  // a verified contact must be verified again to write
    PARLEY_RETURN_IF_ERROR(store->save_contact(contact));
    emit(identity_changed_event(
        contact, "the username " + name +
                     " now belongs to a different account with a different identity key (a new "
                     "install, or someone else)"));
    return contact;
  }
  PARLEY_RETURN_IF_ERROR(store->save_contact(contact));
  return contact;
}

Result<Contact> Client::Impl::contact_for_account(ByteView account_id) {
  PARLEY_ASSIGN_OR_RETURN(auto known, store->contact(account_id));
  if (known) return std::move(*known);
  Contact contact;
  contact.account_id = Bytes(account_id.begin(), account_id.end());
  contact.updated_ms = now_ms();
  if (same_bytes(account_id, account->account_id)) {
    contact.identity_key = account->identity_key;
    contact.username = account->username;
    contact.verified = true;
  } else {
    wire::Request request;
    request.mutable_get_devices()->set_account_id(account_id.data(), account_id.size());
    PARLEY_ASSIGN_OR_RETURN(wire::Response response, call(std::move(request)));
    contact.identity_key = to_bytes(response.get_devices().identity_key());
  }
  PARLEY_RETURN_IF_ERROR(store->save_contact(contact));
  return contact;
}

Result<DeviceSet> Client::Impl::device_set(ByteView account_id, bool refresh) {
  PARLEY_ASSIGN_OR_RETURN(Contact contact, contact_for_account(account_id));
  PARLEY_ASSIGN_OR_RETURN(auto identity, crypto::PublicKey::parse(contact.identity_key));
  std::optional<DeviceSet> cached;
  if (!contact.signed_device_list.empty()) {
    auto verified = verify_device_list(contact.signed_device_list, identity, account_id);
    if (verified.ok()) cached = std::move(*verified);
  }
  if (cached && !refresh) return std::move(*cached);

  wire::Request request;
  request.mutable_get_devices()->set_account_id(account_id.data(), account_id.size());
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, call(std::move(request)));
  const auto& served = response.get_devices();
  if (!same_bytes(as_bytes(served.identity_key()), contact.identity_key)) {
    return server_swapped_identity(contact);
  }
  PARLEY_ASSIGN_OR_RETURN(DeviceSet set, verify_device_list(as_bytes(served.signed_device_list()),
                                                            identity, account_id));
  if (cached && set.version < cached->version) {
    return Status::error(ErrorCode::kDeviceListInvalid,
                         "the server served an older device list of " + display_name(account_id) +
                             " than this device has seen");
  }
  // Listed devices the server no longer has cannot receive; devices the server has that the
  // primary did not sign must not receive (they may be the server's own).
  std::erase_if(set.devices, [&](const auto& entry) {
    return std::none_of(served.devices().begin(), served.devices().end(), [&](const auto& d) {
      return d.device_id() == entry.first &&
             same_bytes(as_bytes(d.device_key()), entry.second.serialize());
    });
  });
  for (const auto& d : served.devices()) {
    if (!set.devices.contains(d.device_id())) {
      return Status::error(ErrorCode::kDeviceListInvalid,
                           display_name(account_id) + " has a device (" +
                               std::to_string(d.device_id()) +
                               ") that their primary device has not confirmed yet; the message "
                               "stays queued and is retried");
    }
  }
  contact.signed_device_list = to_bytes(served.signed_device_list());
  contact.updated_ms = now_ms();
  if (same_bytes(account_id, account->account_id) && !is_primary() &&
      account->username != set.username) {
    // A linked device learns the account's username from the list its primary signed.
    account->username = set.username;
    contact.username = set.username;
    PARLEY_RETURN_IF_ERROR(store->save_account(*account));
  }
  PARLEY_RETURN_IF_ERROR(store->save_contact(contact));
  return set;
}

}  // namespace parley::client
