// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Group membership (docs/client.md "Groups"): a group is a chain of admin-signed states that the
// members send each other pairwise; the server never sees a name, a member list or a role.
//
// A state is accepted when it is newer than ours and its author is an admin in ours (or it only
// removes its author: leaving). Two different states with the same version are concurrent
// changes: the one with the lower SHA-256 wins on every device, and the primary device of an
// admin whose change lost makes it again on top of the winner (version + 1), so both changes
// survive. Removing a member (or a member leaving) makes every remaining device replace its
// sending key, so what follows cannot be read with anything the removed member holds.

#include <algorithm>
#include <cctype>
#include <set>

#include "client_impl.h"
#include "group_state.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/username.h"
#include "parley/util/encoding.h"

namespace parley::client {

namespace {

using groups::find_member;

Result<content::GroupState> stored_state(ByteView signed_state) {
  content::SignedGroupState signed_group;
  if (!signed_group.ParseFromArray(signed_state.data(), static_cast<int>(signed_state.size()))) {
    return Status::error(ErrorCode::kStorageCorrupt, "a stored group state does not parse");
  }
  return groups::parse_state(as_bytes(signed_group.state()));
}

Status not_member_error() {
  return Status::error(ErrorCode::kPermissionDenied, "you are no longer a member of this group");
}

bool is_hex(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

// ---- Names and lookups ----------------------------------------------------------------------

std::string Client::Impl::group_member_name(const content::GroupState& state, ByteView account_id) {
  auto contact = store->contact(account_id);
  if (contact.ok() && *contact && !(*contact)->username.empty()) return (*contact)->username;
  // The author's hint: shown, never used to find anyone.
  const content::GroupMember* member = find_member(state, account_id);
  if (member != nullptr && !member->username().empty()) return member->username();
  return hex_id(account_id).substr(0, 12);
}

Result<Bytes> Client::Impl::resolve_group(const std::string& group) {
  PARLEY_ASSIGN_OR_RETURN(std::vector<GroupRecord> all, store->groups());
  std::string id = lowercase(group);
  for (const auto& record : all) {
    if (hex_id(record.group_id) == id) return record.group_id;
  }
  std::vector<const GroupRecord*> named;
  for (const auto& record : all) {
    if (record.name == group) named.push_back(&record);
  }
  if (named.size() == 1) return named[0]->group_id;
  if (named.size() > 1) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "several groups have this name; use the group id (`parley group list`)");
  }
  if (is_hex(id)) {
    std::vector<const GroupRecord*> prefixed;
    for (const auto& record : all) {
      if (hex_id(record.group_id).starts_with(id)) prefixed.push_back(&record);
    }
    if (prefixed.size() == 1) return prefixed[0]->group_id;
    if (prefixed.size() > 1) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "several groups start with this id; give more of it");
    }
  }
  return Status::error(ErrorCode::kNotFound, "no such group here (see `parley group list`)");
}

Result<GroupRecord> Client::Impl::load_group(ByteView group_id) {
  PARLEY_ASSIGN_OR_RETURN(auto record, store->group(group_id));
  if (!record) return Status::error(ErrorCode::kNotFound, "no such group here");
  return std::move(*record);
}

Result<content::GroupState> Client::Impl::group_state_of(const GroupRecord& record) {
  return stored_state(record.state);
}

// ---- Accepting states -------------------------------------------------------------------------

Result<content::GroupState> Client::Impl::verify_group_state(
    const content::SignedGroupState& signed_state) {
  PARLEY_ASSIGN_OR_RETURN(content::GroupState state,
                          groups::parse_state(as_bytes(signed_state.state())));
  ByteView author = as_bytes(state.author_account_id());
  Bytes author_key;
  if (same_bytes(author, account->account_id)) {
    author_key = account->identity_key;
  } else {
    // The author's key as we pinned it (trust on first use, like every contact).
    PARLEY_ASSIGN_OR_RETURN(Contact contact, contact_for_account(author));
    author_key = contact.identity_key;
  }
  const content::GroupMember* listed = find_member(state, author);
  if (listed != nullptr && !same_bytes(as_bytes(listed->identity_key()), author_key)) {
    return Status::error(ErrorCode::kUntrustedIdentity,
                         "a group state lists its author with another identity key than ours");
  }
  PARLEY_ASSIGN_OR_RETURN(auto key, crypto::PublicKey::parse(author_key));
  PARLEY_RETURN_IF_ERROR(crypto::xeddsa_verify(key,
                                               groups::signed_bytes(as_bytes(signed_state.state())),
                                               as_bytes(signed_state.signature())));
  return state;
}

Status Client::Impl::apply_group_state(const content::SignedGroupState& signed_state) {
  PARLEY_ASSIGN_OR_RETURN(content::GroupState next, verify_group_state(signed_state));
  Bytes serialized = to_bytes(signed_state.SerializeAsString());
  ByteView author = as_bytes(next.author_account_id());
  PARLEY_ASSIGN_OR_RETURN(auto existing, store->group(as_bytes(next.group_id())));
  if (!existing) {
    // A group we do not know: we must be in it, and its author must be an admin of it.
    if (!groups::is_member(next, account->account_id) || !groups::is_admin(next, author)) {
      return Status::error(ErrorCode::kPermissionDenied,
                           "a state of an unknown group that does not add us was ignored");
    }
    return install_group_state(std::nullopt, {}, next, serialized, false);
  }
  PARLEY_ASSIGN_OR_RETURN(content::GroupState current, stored_state(existing->state));
  if (next.version() < current.version()) return Status();  // old news
  if (next.version() > current.version()) {
    if (!groups::authorized(current, next)) {
      return Status::error(ErrorCode::kPermissionDenied,
                           "a group change by someone who is not an admin was ignored");
    }
    return install_group_state(existing, existing->state, next, serialized, false);
  }
  // The same version: a concurrent change, or the one we have again.
  if (same_bytes(serialized, existing->state)) return Status();
  content::GroupState reference = current;
  if (!existing->previous_state.empty()) {
    auto previous = stored_state(existing->previous_state);
    if (previous.ok() && previous->version() + 1 == next.version()) reference = *previous;
  }
  if (!groups::authorized(reference, next)) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "a group change by someone who is not an admin was ignored");
  }
  if (!(groups::state_hash(serialized) < groups::state_hash(existing->state))) {
    return Status();  // ours wins here and everywhere; its loser's author makes it again
  }
  std::optional<content::GroupState> lost_parent;
  std::optional<content::GroupState> lost_change;
  if (!existing->authored.empty() && !existing->authored_parent.empty()) {
    content::GroupState parent, mine;
    if (parent.ParseFromArray(existing->authored_parent.data(),
                              static_cast<int>(existing->authored_parent.size())) &&
        mine.ParseFromArray(existing->authored.data(),
                            static_cast<int>(existing->authored.size())) &&
        mine.version() == next.version()) {
      lost_parent = std::move(parent);
      lost_change = std::move(mine);
    }
  }
  PARLEY_RETURN_IF_ERROR(
      install_group_state(existing, existing->previous_state, next, serialized, false));
  if (!lost_change || !is_primary()) return Status();

  // Our change lost: make it again on top of the winner.
  PARLEY_ASSIGN_OR_RETURN(GroupRecord winner, load_group(as_bytes(next.group_id())));
  content::GroupState again = next;
  bool left = groups::is_member(*lost_parent, account->account_id) &&
              !groups::is_member(*lost_change, account->account_id);
  if (left) {
    if (!groups::is_member(next, account->account_id)) return Status();
    again = groups::without_member(next, account->account_id);
  } else {
    if (!groups::is_admin(next, account->account_id)) return Status();  // no longer allowed
    if (!groups::apply_change(again, groups::diff(*lost_parent, *lost_change))) return Status();
  }
  return publish_group_state(winner, std::move(again));
}

Status Client::Impl::install_group_state(const std::optional<GroupRecord>& existing,
                                         Bytes previous_state, const content::GroupState& next,
                                         Bytes serialized, bool authored_by_us) {
  Bytes group_id = to_bytes(next.group_id());
  std::optional<content::GroupState> old;
  if (existing) {
    PARLEY_ASSIGN_OR_RETURN(old, stored_state(existing->state));
  }
  ByteView own = account->account_id;
  std::int64_t now = now_ms();

  GroupRecord record;
  record.group_id = group_id;
  record.version = next.version();
  record.state = serialized;
  record.previous_state = std::move(previous_state);
  record.name = next.name();
  record.is_member = groups::is_member(next, own);
  record.updated_ms = now;
  if (authored_by_us) {
    if (old) record.authored_parent = to_bytes(old->SerializeAsString());
    record.authored = to_bytes(next.SerializeAsString());
  } else if (existing && !existing->authored.empty()) {
    content::GroupState mine;
    if (mine.ParseFromArray(existing->authored.data(),
                            static_cast<int>(existing->authored.size())) &&
        mine.version() >= next.version()) {
      record.authored_parent = existing->authored_parent;  // still undecided: keep it
      record.authored = existing->authored;
    }
  }

  PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
  PARLEY_RETURN_IF_ERROR(store->save_group(record));

  // Members' identity keys, trust on first use; a different key than the one we pinned is loud.
  for (const auto& member : next.members()) {
    ByteView id = as_bytes(member.account_id());
    if (same_bytes(id, own)) continue;
    PARLEY_ASSIGN_OR_RETURN(auto contact, store->contact(id));
    if (!contact) {
      Contact pinned;
      pinned.account_id = to_bytes(member.account_id());
      pinned.identity_key = to_bytes(member.identity_key());
      pinned.updated_ms = now;
      PARLEY_RETURN_IF_ERROR(store->save_contact(pinned));
    } else if (!same_bytes(contact->identity_key, as_bytes(member.identity_key())) &&
               !contact->identity_changed) {
      contact->identity_changed = true;
      contact->updated_ms = now;
      PARLEY_RETURN_IF_ERROR(store->save_contact(*contact));
      Event changed;
      changed.kind = Event::Kind::kIdentityChanged;
      changed.peer_username = contact->username;
      changed.peer_account_hex = hex_id(contact->account_id);
      changed.code = ErrorCode::kUntrustedIdentity;
      changed.group_id_hex = hex_id(group_id);
      changed.group_name = next.name();
      changed.body =
          "a group state lists another identity key for this member than the one "
          "you know; verify their safety number";
      emit(changed);
    }
  }

  // Sending keys: whoever is gone takes nothing of what follows.
  std::vector<Bytes> removed;
  if (old) {
    for (const auto& member : old->members()) {
      if (!groups::is_member(next, as_bytes(member.account_id()))) {
        removed.push_back(to_bytes(member.account_id()));
      }
    }
  }
  if (!removed.empty() || !record.is_member) {
    PARLEY_RETURN_IF_ERROR(forget_own_sender_key(group_id));
  }
  PARLEY_ASSIGN_OR_RETURN(std::vector<ReceivedSenderKey> received,
                          store->received_sender_keys(group_id));
  for (const auto& key : received) {
    bool gone = std::any_of(removed.begin(), removed.end(),
                            [&](const Bytes& r) { return r == key.sender_account; });
    if (gone || !record.is_member) PARLEY_RETURN_IF_ERROR(store->delete_received_sender_key(key));
  }

  // The conversation and a note saying what changed.
  PARLEY_ASSIGN_OR_RETURN(auto conversation, store->conversation(group_id));
  Conversation updated = conversation.value_or(Conversation{group_id, 0, 0, 0, true});
  updated.is_group = true;
  updated.last_activity_ms = now;
  PARLEY_RETURN_IF_ERROR(store->save_conversation(updated));

  ByteView author = as_bytes(next.author_account_id());
  bool by_us = same_bytes(author, own);
  std::string who = by_us ? std::string("you") : group_member_name(next, author);
  std::vector<std::string> parts;
  if (!old) {
    parts.push_back(who + " created the group \"" + next.name() + "\"");
  } else {
    groups::GroupChange change = groups::diff(*old, next);
    std::vector<std::string> added, gone;
    for (const auto& member : change.added) {
      added.push_back(same_bytes(as_bytes(member.account_id()), own)
                          ? std::string("you")
                          : group_member_name(next, as_bytes(member.account_id())));
    }
    bool left = false;
    for (const auto& account_id : change.removed) {
      if (same_bytes(account_id, author)) {
        left = true;
        continue;
      }
      gone.push_back(same_bytes(account_id, own) ? std::string("you")
                                                 : group_member_name(*old, account_id));
    }
    if (left) parts.push_back(who + " left");
    if (!added.empty()) parts.push_back(who + " added " + groups::join_names(added));
    if (!gone.empty()) parts.push_back(who + " removed " + groups::join_names(gone));
    for (const auto& [account_id, admin] : change.admin) {
      std::string name =
          same_bytes(account_id, own) ? std::string("you") : group_member_name(next, account_id);
      parts.push_back(admin ? who + " made " + name + " an admin"
                            : name + " is no longer an admin");
    }
    if (change.name) parts.push_back(who + " renamed the group to \"" + *change.name + "\"");
    if (change.avatar) parts.push_back(who + " changed the group's picture");
  }
  std::string description = parts.empty() ? who + " updated the group" : parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) description += "; " + parts[i];

  MessageRecord note;
  note.peer = group_id;
  note.direction = by_us ? MessageDirection::kOutgoing : MessageDirection::kIncoming;
  note.client_message_id = groups::state_hash(serialized);
  note.client_message_id.resize(kClientMessageIdSize);
  note.kind = MessageKind::kSystem;
  note.body = description;
  note.sent_ms = next.timestamp_ms();
  note.received_ms = now;
  note.status = by_us ? MessageStatus::kSent : MessageStatus::kRead;
  note.sender = to_bytes(next.author_account_id());
  PARLEY_RETURN_IF_ERROR(store->insert_message(note));
  PARLEY_RETURN_IF_ERROR(tx.commit());

  Event event;
  event.kind = Event::Kind::kGroupChanged;
  event.peer_account_hex = hex_id(author);
  event.peer_username = by_us ? account->username : group_member_name(next, author);
  event.outgoing = by_us;
  event.group_id_hex = hex_id(group_id);
  event.group_name = next.name();
  event.body = description;
  event.sent_ms = next.timestamp_ms();
  emit(event);
  return Status();
}

// ---- Making states ----------------------------------------------------------------------------

Status Client::Impl::publish_group_state(const std::optional<GroupRecord>& current,
                                         content::GroupState next) {
  if (!is_primary()) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "only the primary device (device 1) can change a group");
  }
  std::optional<content::GroupState> old;
  if (current) {
    PARLEY_ASSIGN_OR_RETURN(old, stored_state(current->state));
  }
  next.set_version(old ? old->version() + 1 : 1);
  next.set_author_account_id(account->account_id.data(), account->account_id.size());
  next.set_timestamp_ms(now_ms());
  groups::sort_members(next);
  if (static_cast<std::size_t>(next.members_size()) > groups::kMaxGroupMembers) {
    return Status::error(ErrorCode::kTooLarge, "a group has at most 1000 members");
  }
  std::string state = next.SerializeAsString();
  if (state.size() > groups::kMaxGroupStateBytes) {
    // Usernames are only display hints: a big group goes without them.
    for (auto& member : *next.mutable_members()) member.clear_username();
    state = next.SerializeAsString();
  }
  if (state.size() > groups::kMaxGroupStateBytes) {
    return Status::error(ErrorCode::kTooLarge,
                         "the group's member list and picture do not fit in one message");
  }
  PARLEY_ASSIGN_OR_RETURN(auto identity,
                          crypto::PrivateKey::parse(account->device_private_key.view()));
  Bytes signature = crypto::xeddsa_sign(identity, groups::signed_bytes(as_bytes(state)));
  content::SignedGroupState signed_state;
  signed_state.set_state(state);
  signed_state.set_signature(signature.data(), signature.size());
  Bytes serialized = to_bytes(signed_state.SerializeAsString());

  PARLEY_ASSIGN_OR_RETURN(auto tx, store->begin());
  PARLEY_RETURN_IF_ERROR(
      install_group_state(current, current ? current->state : Bytes{}, next, serialized, true));
  // Everyone in the old or the new state learns it (removed members learn they were removed),
  // and so do our own other devices.
  std::set<Bytes> recipients{account->account_id};
  if (old) {
    for (const auto& member : old->members()) recipients.insert(to_bytes(member.account_id()));
  }
  for (const auto& member : next.members()) recipients.insert(to_bytes(member.account_id()));
  content::Content update;
  update.set_group_id(next.group_id());
  *update.mutable_group_update()->mutable_state() = signed_state;
  for (const auto& recipient : recipients) {
    PARLEY_RETURN_IF_ERROR(queue_content(recipient, update));
  }
  return tx.commit();
}

Result<content::GroupMember> Client::Impl::member_for_username(const std::string& username) {
  PARLEY_ASSIGN_OR_RETURN(Contact contact, contact_for_username(username, !offline));
  if (same_bytes(contact.account_id, account->account_id)) {
    return Status::error(ErrorCode::kInvalidArgument, "you are in your groups already");
  }
  if (contact.identity_changed && contact.verified) {
    return Status::error(ErrorCode::kUntrustedIdentity,
                         "you verified " + contact.username +
                             " before, and their identity key has changed since: compare safety "
                             "numbers again with `parley verify " +
                             contact.username + "` first");
  }
  content::GroupMember member;
  member.set_account_id(contact.account_id.data(), contact.account_id.size());
  member.set_username(contact.username);
  member.set_identity_key(contact.identity_key.data(), contact.identity_key.size());
  return member;
}

Result<std::pair<GroupRecord, content::GroupState>> Client::Impl::admin_group(
    const std::string& group) {
  PARLEY_ASSIGN_OR_RETURN(Bytes group_id, resolve_group(group));
  PARLEY_ASSIGN_OR_RETURN(GroupRecord record, load_group(group_id));
  if (!record.is_member) return not_member_error();
  PARLEY_ASSIGN_OR_RETURN(content::GroupState state, stored_state(record.state));
  if (!groups::is_admin(state, account->account_id)) {
    return Status::error(ErrorCode::kPermissionDenied, "only the group's admins can do this");
  }
  return std::make_pair(std::move(record), std::move(state));
}

Result<Bytes> Client::Impl::member_account(const content::GroupState& state,
                                           const std::string& username) {
  auto contact = contact_for_username(username, false);
  if (contact.ok() && groups::is_member(state, contact->account_id)) return contact->account_id;
  auto normalized = proto::normalize_username(username);
  for (const auto& member : state.members()) {
    if (normalized.ok() && !member.username().empty() && member.username() == *normalized) {
      return to_bytes(member.account_id());
    }
    if (lowercase(username) == hex_id(as_bytes(member.account_id()))) {
      return to_bytes(member.account_id());
    }
  }
  return Status::error(ErrorCode::kNotFound, "no such member in this group");
}

GroupView Client::Impl::group_view(const GroupRecord& record, const content::GroupState& state) {
  GroupView view;
  view.group_id_hex = hex_id(record.group_id);
  view.name = record.name;
  view.version = record.version;
  view.is_member = record.is_member;
  view.is_admin = record.is_member && groups::is_admin(state, account->account_id);
  for (const auto& member : state.members()) {
    ByteView id = as_bytes(member.account_id());
    view.members.push_back(
        {hex_id(id),
         same_bytes(id, account->account_id) ? account->username : group_member_name(state, id),
         member.admin()});
  }
  auto conversation = store->conversation(record.group_id);
  if (conversation.ok() && *conversation) {
    view.unread = (*conversation)->unread;
    view.last_activity_ms = (*conversation)->last_activity_ms;
  }
  return view;
}

// ---- Client -----------------------------------------------------------------------------------

Result<GroupView> Client::create_group(const std::string& name,
                                       const std::vector<std::string>& usernames) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (name.empty() || name.size() > groups::kMaxGroupNameBytes) {
    return Status::error(ErrorCode::kInvalidArgument, "a group name has 1 to 128 bytes");
  }
  if (usernames.size() + 1 > groups::kMaxGroupMembers) {
    return Status::error(ErrorCode::kTooLarge, "a group has at most 1000 members");
  }
  if (!impl_->is_primary()) {
    return Status::error(ErrorCode::kPermissionDenied,
                         "only the primary device (device 1) can create a group");
  }
  content::GroupState state;
  Bytes group_id = crypto::random_bytes(groups::kGroupIdSize);
  state.set_group_id(group_id.data(), group_id.size());
  state.set_name(name);
  content::GroupMember* self = state.add_members();
  self->set_account_id(impl_->account->account_id.data(), impl_->account->account_id.size());
  self->set_username(impl_->account->username);
  self->set_identity_key(impl_->account->identity_key.data(), impl_->account->identity_key.size());
  self->set_admin(true);
  std::set<Bytes> seen{impl_->account->account_id};
  for (const auto& username : usernames) {
    PARLEY_ASSIGN_OR_RETURN(content::GroupMember member, impl_->member_for_username(username));
    if (!seen.insert(to_bytes(member.account_id())).second) continue;
    *state.add_members() = std::move(member);
  }
  PARLEY_RETURN_IF_ERROR(impl_->publish_group_state(std::nullopt, std::move(state)));
  return group_info(hex_id(group_id));
}

Status Client::add_group_members(const std::string& group,
                                 const std::vector<std::string>& usernames) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(auto found, impl_->admin_group(group));
  auto& [record, state] = found;
  content::GroupState next = state;
  bool changed = false;
  for (const auto& username : usernames) {
    PARLEY_ASSIGN_OR_RETURN(content::GroupMember member, impl_->member_for_username(username));
    if (groups::is_member(next, as_bytes(member.account_id()))) continue;
    *next.add_members() = std::move(member);
    changed = true;
  }
  if (!changed) return Status();
  return impl_->publish_group_state(record, std::move(next));
}

Status Client::remove_group_member(const std::string& group, const std::string& username) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(auto found, impl_->admin_group(group));
  auto& [record, state] = found;
  PARLEY_ASSIGN_OR_RETURN(Bytes account_id, impl_->member_account(state, username));
  if (same_bytes(account_id, impl_->account->account_id)) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "to remove yourself, leave the group (`parley group leave`)");
  }
  groups::GroupChange change;
  change.removed.push_back(account_id);
  content::GroupState next = state;
  groups::apply_change(next, change);
  return impl_->publish_group_state(record, std::move(next));
}

Status Client::set_group_admin(const std::string& group, const std::string& username, bool admin) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(auto found, impl_->admin_group(group));
  auto& [record, state] = found;
  PARLEY_ASSIGN_OR_RETURN(Bytes account_id, impl_->member_account(state, username));
  groups::GroupChange change;
  change.admin.emplace_back(account_id, admin);
  content::GroupState next = state;
  if (!groups::apply_change(next, change)) return Status();
  bool any_admin = std::any_of(next.members().begin(), next.members().end(),
                               [](const auto& member) { return member.admin(); });
  if (!any_admin) {
    return Status::error(ErrorCode::kInvalidArgument, "a group needs at least one admin");
  }
  return impl_->publish_group_state(record, std::move(next));
}

Status Client::rename_group(const std::string& group, const std::string& name) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (name.empty() || name.size() > groups::kMaxGroupNameBytes) {
    return Status::error(ErrorCode::kInvalidArgument, "a group name has 1 to 128 bytes");
  }
  PARLEY_ASSIGN_OR_RETURN(auto found, impl_->admin_group(group));
  auto& [record, state] = found;
  if (state.name() == name) return Status();
  content::GroupState next = state;
  next.set_name(name);
  return impl_->publish_group_state(record, std::move(next));
}

Status Client::leave_group(const std::string& group) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Bytes group_id, impl_->resolve_group(group));
  PARLEY_ASSIGN_OR_RETURN(GroupRecord record, impl_->load_group(group_id));
  if (!record.is_member) return not_member_error();
  PARLEY_ASSIGN_OR_RETURN(content::GroupState state, stored_state(record.state));
  return impl_->publish_group_state(record,
                                    groups::without_member(state, impl_->account->account_id));
}

Result<GroupView> Client::group_info(const std::string& group) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(Bytes group_id, impl_->resolve_group(group));
  PARLEY_ASSIGN_OR_RETURN(GroupRecord record, impl_->load_group(group_id));
  PARLEY_ASSIGN_OR_RETURN(content::GroupState state, stored_state(record.state));
  return impl_->group_view(record, state);
}

Result<std::vector<GroupView>> Client::groups() {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_ASSIGN_OR_RETURN(std::vector<GroupRecord> records, impl_->store->groups());
  std::vector<GroupView> views;
  for (const auto& record : records) {
    PARLEY_ASSIGN_OR_RETURN(content::GroupState state, stored_state(record.state));
    views.push_back(impl_->group_view(record, state));
  }
  return views;
}

Result<std::string> Client::queue_group_text(const std::string& group, const std::string& text) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  if (text.empty()) return Status::error(ErrorCode::kInvalidArgument, "the message is empty");
  if (text.size() > kMaxTextBytes) {
    return Status::error(ErrorCode::kTooLarge, "a message holds at most 32 KiB of text");
  }
  PARLEY_ASSIGN_OR_RETURN(Bytes group_id, impl_->resolve_group(group));
  PARLEY_ASSIGN_OR_RETURN(GroupRecord record, impl_->load_group(group_id));
  if (!record.is_member) return not_member_error();
  std::int64_t now = impl_->now_ms();
  Bytes id = crypto::random_bytes(kClientMessageIdSize);
  content::Content content;
  content.set_client_message_id(id.data(), id.size());
  content.set_sent_ms(now);
  content.mutable_text()->set_body(text);

  PARLEY_ASSIGN_OR_RETURN(auto tx, impl_->store->begin());
  MessageRecord message;
  message.peer = group_id;
  message.direction = MessageDirection::kOutgoing;
  message.sender_device = impl_->account->device_id;
  message.client_message_id = id;
  message.kind = MessageKind::kText;
  message.body = text;
  message.sent_ms = now;
  message.status = MessageStatus::kPending;
  message.sender = impl_->account->account_id;
  PARLEY_RETURN_IF_ERROR(impl_->store->insert_message(message));
  PARLEY_ASSIGN_OR_RETURN(auto conversation, impl_->store->conversation(group_id));
  Conversation updated = conversation.value_or(Conversation{group_id, 0, 0, 0, true});
  updated.is_group = true;
  updated.last_activity_ms = now;
  PARLEY_RETURN_IF_ERROR(impl_->store->save_conversation(updated));
  PARLEY_RETURN_IF_ERROR(impl_->queue_group_content(group_id, content));
  PARLEY_RETURN_IF_ERROR(tx.commit());
  return hex_id(id);
}

Result<std::vector<MessageRecord>> Client::group_history(const std::string& group,
                                                         std::size_t limit) {
  PARLEY_RETURN_IF_ERROR(impl_->require_account());
  PARLEY_RETURN_IF_ERROR(impl_->store->delete_expired_messages(impl_->now_ms()));
  PARLEY_ASSIGN_OR_RETURN(Bytes group_id, impl_->resolve_group(group));
  PARLEY_ASSIGN_OR_RETURN(auto history, impl_->store->history(group_id, limit));
  // Reading the history reads the messages (groups send no read receipts).
  PARLEY_ASSIGN_OR_RETURN(auto unread, impl_->store->unread(group_id));
  if (!unread.empty()) {
    PARLEY_ASSIGN_OR_RETURN(auto tx, impl_->store->begin());
    for (const auto& message : unread) {
      PARLEY_RETURN_IF_ERROR(impl_->store->advance_status(group_id, MessageDirection::kIncoming,
                                                          message.client_message_id,
                                                          MessageStatus::kRead, impl_->now_ms()));
    }
    PARLEY_ASSIGN_OR_RETURN(auto conversation, impl_->store->conversation(group_id));
    if (conversation) {
      conversation->unread = 0;
      PARLEY_RETURN_IF_ERROR(impl_->store->save_conversation(*conversation));
    }
    PARLEY_RETURN_IF_ERROR(tx.commit());
  }
  return history;
}

}  // namespace parley::client
