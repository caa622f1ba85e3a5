// SPDX-License-Identifier: AGPL-3.0-or-later
#include "group_state.h"

#include <algorithm>
#include <string_view>

#include "parley/crypto/hash.h"

namespace parley::client::groups {

namespace {

constexpr std::string_view kStateContext = "parley-group-state-v1";
constexpr std::size_t kAccountIdSize = 16;
constexpr std::size_t kIdentityKeySize = 33;
constexpr std::size_t kMaxUsernameHintBytes = 64;

Status malformed(const std::string& what) {
  return Status::error(ErrorCode::kMalformedInput, "a group state has " + what);
}

bool same(const std::string& a, ByteView b) {
  return std::string_view(a) == as_string_view(b);
}

// The members of `state` that are not `account_id`, in order.
std::vector<content::GroupMember> others(const content::GroupState& state, ByteView account_id) {
  std::vector<content::GroupMember> out;
  for (const auto& member : state.members()) {
    if (!same(member.account_id(), account_id)) out.push_back(member);
  }
  return out;
}

}  // namespace

Bytes signed_bytes(ByteView state) {
  // Reserved up front: growing a 21-byte vector here trips GCC 12's -Warray-bounds false positive
  // (a memcpy it believes overruns the old buffer) in optimised builds.
  Bytes out;
  out.reserve(kStateContext.size() + state.size());
  append(out, as_bytes(kStateContext));
  append(out, state);
  return out;
}

Result<content::GroupState> parse_state(ByteView bytes) {
  if (bytes.size() > kMaxGroupStateBytes) {
    return Status::error(ErrorCode::kTooLarge, "a group state is too large");
  }
  content::GroupState state;
  if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return malformed("bytes that do not parse");
  }
  if (state.group_id().size() != kGroupIdSize) return malformed("a bad group id");
  if (state.version() == 0) return malformed("version 0");
  if (state.author_account_id().size() != kAccountIdSize) return malformed("a bad author");
  if (state.name().size() > kMaxGroupNameBytes) return malformed("a name that is too long");
  if (state.avatar().size() > kMaxGroupAvatarBytes) return malformed("an avatar that is too big");
  if (static_cast<std::size_t>(state.members_size()) > kMaxGroupMembers) {
    return malformed("too many members");
  }
  const std::string* previous = nullptr;
  for (const auto& member : state.members()) {
    if (member.account_id().size() != kAccountIdSize) return malformed("a bad member id");
    if (member.identity_key().size() != kIdentityKeySize) return malformed("a bad identity key");
    if (member.username().size() > kMaxUsernameHintBytes) return malformed("a long username");
    if (previous != nullptr && !(*previous < member.account_id())) {
      return malformed("members out of order");
    }
    previous = &member.account_id();
  }
  return state;
}

const content::GroupMember* find_member(const content::GroupState& state, ByteView account_id) {
  for (const auto& member : state.members()) {
    if (same(member.account_id(), account_id)) return &member;
  }
  return nullptr;
}

bool is_member(const content::GroupState& state, ByteView account_id) {
  return find_member(state, account_id) != nullptr;
}

bool is_admin(const content::GroupState& state, ByteView account_id) {
  const content::GroupMember* member = find_member(state, account_id);
  return member != nullptr && member->admin();
}

content::GroupState without_member(const content::GroupState& reference, ByteView account_id) {
  content::GroupState next = reference;
  next.clear_members();
  bool had_admin = false;
  for (const auto& member : others(reference, account_id)) {
    had_admin = had_admin || member.admin();
    *next.add_members() = member;
  }
  // A group is never left without an admin while it has members.
  if (!had_admin && next.members_size() > 0) next.mutable_members(0)->set_admin(true);
  return next;
}

bool is_leave_of_author(const content::GroupState& reference, const content::GroupState& next) {
  ByteView author = as_bytes(next.author_account_id());
  if (!is_member(reference, author) || is_member(next, author)) return false;
  if (next.group_id() != reference.group_id() || next.name() != reference.name() ||
      next.avatar() != reference.avatar()) {
    return false;
  }
  content::GroupState expected = without_member(reference, author);
  if (expected.members_size() != next.members_size()) return false;
  for (int i = 0; i < next.members_size(); ++i) {
    if (expected.members(i).SerializeAsString() != next.members(i).SerializeAsString()) {
      return false;
    }
  }
  return true;
}

bool authorized(const content::GroupState& reference, const content::GroupState& next) {
  if (next.group_id() != reference.group_id()) return false;
  return is_admin(reference, as_bytes(next.author_account_id())) ||
         is_leave_of_author(reference, next);
}

void sort_members(content::GroupState& state) {
  std::vector<content::GroupMember> members(state.members().begin(), state.members().end());
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.account_id() < b.account_id(); });
  state.clear_members();
  for (auto& member : members) *state.add_members() = std::move(member);
}

GroupChange diff(const content::GroupState& before, const content::GroupState& after) {
  GroupChange change;
  for (const auto& member : after.members()) {
    const content::GroupMember* old = find_member(before, as_bytes(member.account_id()));
    if (old == nullptr) {
      change.added.push_back(member);
    } else if (old->admin() != member.admin()) {
      change.admin.emplace_back(to_bytes(member.account_id()), member.admin());
    }
  }
  for (const auto& member : before.members()) {
    if (!is_member(after, as_bytes(member.account_id()))) {
      change.removed.push_back(to_bytes(member.account_id()));
    }
  }
  if (before.name() != after.name()) change.name = after.name();
  if (before.avatar() != after.avatar()) change.avatar = after.avatar();
  return change;
}

bool apply_change(content::GroupState& base, const GroupChange& change) {
  bool changed = false;
  for (const auto& member : change.added) {
    if (is_member(base, as_bytes(member.account_id()))) continue;
    *base.add_members() = member;
    changed = true;
  }
  for (const auto& account : change.removed) {
    if (!is_member(base, account)) continue;
    content::GroupState kept = base;
    kept.clear_members();
    for (const auto& member : base.members()) {
      if (!same(member.account_id(), account)) *kept.add_members() = member;
    }
    base = std::move(kept);
    changed = true;
  }
  for (const auto& [account, admin] : change.admin) {
    for (auto& member : *base.mutable_members()) {
      if (same(member.account_id(), account) && member.admin() != admin) {
        member.set_admin(admin);
        changed = true;
      }
    }
  }
  if (change.name && base.name() != *change.name) {
    base.set_name(*change.name);
    changed = true;
  }
  if (change.avatar && base.avatar() != *change.avatar) {
    base.set_avatar(*change.avatar);
    changed = true;
  }
  sort_members(base);
  return changed;
}

Bytes state_hash(ByteView signed_state) {
  auto digest = crypto::sha256(signed_state);
  return Bytes(digest.begin(), digest.end());
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace parley::client::groups
