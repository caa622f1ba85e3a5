// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Group states as plain data: limits, the bytes an author signs, structural checks of a state
// from the network, and the rules that decide whether a state may follow another. No store, no
// network: groups.cpp applies them, group_state_test.cpp checks them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/content.pb.h"
#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::client::groups {

inline constexpr std::size_t kGroupIdSize = 16;
inline constexpr std::size_t kDistributionIdSize = 16;
inline constexpr std::size_t kMaxGroupMembers = 1000;
inline constexpr std::size_t kMaxGroupNameBytes = 128;
inline constexpr std::size_t kMaxGroupAvatarBytes = 32 * 1024;
// A state travels pairwise in one message copy, which the server caps at 64 KiB of ciphertext
// (proto::Limits::max_ciphertext_bytes); this leaves room for the signature, the Content around
// it, padding and the Signal envelope. 1,000 members fit without username hints (55 bytes each).
inline constexpr std::size_t kMaxGroupStateBytes = 62 * 1024;
// Our sending key is replaced after this long or this many messages, whatever else happens.
inline constexpr std::int64_t kSenderKeyMaxAgeMs = std::int64_t{7} * 24 * 3600 * 1000;
inline constexpr std::uint32_t kSenderKeyMaxMessages = 1000;

// "parley-group-state-v1" || state: what the author's identity key signs.
Bytes signed_bytes(ByteView state);

// Parses and checks the structure of a state: a 16-byte group id, version >= 1, at most
// kMaxGroupMembers members in strictly ascending account id order with 16-byte ids and 33-byte
// identity keys, the name and avatar within their limits, a 16-byte author. kMalformedInput /
// kTooLarge otherwise. The signature is not checked here.
Result<content::GroupState> parse_state(ByteView state);

const content::GroupMember* find_member(const content::GroupState& state, ByteView account_id);
bool is_member(const content::GroupState& state, ByteView account_id);
bool is_admin(const content::GroupState& state, ByteView account_id);

// Whether `next` is a leave of its author from `reference`: the same group, name and avatar, the
// members of `reference` minus the author, unchanged, except that when the author was the only
// admin, the remaining member with the lowest account id is an admin now.
bool is_leave_of_author(const content::GroupState& reference, const content::GroupState& next);
// `next` as `reference` would accept it: authored by an admin of `reference`, or a leave.
bool authorized(const content::GroupState& reference, const content::GroupState& next);

// The state `reference` minus `account_id`, with the admin rule of is_leave_of_author().
content::GroupState without_member(const content::GroupState& reference, ByteView account_id);

// Sorts the members by account id (the order every state has).
void sort_members(content::GroupState& state);

// What an author changed from `before` to `after`, so that the change can be made again on top
// of another state (a concurrent change that won).
struct GroupChange {
  std::vector<content::GroupMember> added;
  std::vector<Bytes> removed;
  std::vector<std::pair<Bytes, bool>> admin;  // account, admin now
  std::optional<std::string> name;
  std::optional<std::string> avatar;
  bool empty() const {
    return added.empty() && removed.empty() && admin.empty() && !name && !avatar;
  }
};
GroupChange diff(const content::GroupState& before, const content::GroupState& after);
// Applies `change` to `base` (members already there are not added twice; removed ones that are
// gone are ignored). Returns whether anything changed.
bool apply_change(content::GroupState& base, const GroupChange& change);

// SHA-256 of a serialized SignedGroupState: of two states with one version, the lower wins.
Bytes state_hash(ByteView signed_state);

// The member list as a person reads it, for system notes: "alice, bob".
std::string join_names(const std::vector<std::string>& names);

}  // namespace parley::client::groups
