// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: group states from peers and the pure acceptance rules of group_state.h
// (parse_state, authorized / is_leave_of_author, without_member, diff / apply_change, the
// state_hash tie-break), exactly as Client::Impl::apply_group_state combines them, without its
// database. Input: three SignedGroupStates, the one we hold (`current`), the one before it
// (`previous`, may be empty) and the one that arrives (`next`):
//   [length:2 big-endian][current][length:2 big-endian][previous][next = the rest]
// Signatures are checked against the fixed accounts of client_fixtures.h as the client would,
// but the rules run whatever the result: they are pure functions of parsed states, and a
// malicious member can sign anything.
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "../src/group_state.h"
#include "client_fixtures.h"
#include "parley/util/error_code.h"

using namespace parley;
using namespace parley::client;

namespace {

struct Parsed {
  Bytes serialized;  // the SignedGroupState as received
  content::GroupState state;
  bool signature_ok = false;
};

// As groups.cpp: the outer message, the structure of the state, the author's signature.
std::optional<Parsed> parse_signed(ByteView bytes) {
  content::SignedGroupState outer;
  if (!outer.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  auto state = groups::parse_state(as_bytes(outer.state()));
  if (!state.ok()) {
    PARLEY_FUZZ_CHECK(state.status().code() == ErrorCode::kMalformedInput ||
                      state.status().code() == ErrorCode::kTooLarge);
    return std::nullopt;
  }
  Parsed parsed;
  parsed.serialized = to_bytes(outer.SerializeAsString());
  parsed.state = std::move(state).value();
  const fuzzing::FixedAccount* author =
      fuzzing::fixed_accounts().find(as_bytes(parsed.state.author_account_id()));
  if (author != nullptr) {
    parsed.signature_ok = crypto::xeddsa_verify(author->identity.public_key,
                                                groups::signed_bytes(as_bytes(outer.state())),
                                                as_bytes(outer.signature()))
                              .ok();
  }
  return parsed;
}

bool has_admin(const content::GroupState& state) {
  for (const auto& member : state.members()) {
    if (member.admin()) return true;
  }
  return false;
}

// (account id, admin) of every member: what a change is about.
std::set<std::pair<std::string, bool>> roles(const content::GroupState& state) {
  std::set<std::pair<std::string, bool>> out;
  for (const auto& member : state.members()) out.emplace(member.account_id(), member.admin());
  return out;
}

void check_authorized(const content::GroupState& reference, const content::GroupState& next) {
  const bool leave = groups::is_leave_of_author(reference, next);
  if (leave) {
    ByteView author = as_bytes(next.author_account_id());
    PARLEY_FUZZ_CHECK(groups::is_member(reference, author) && !groups::is_member(next, author));
    PARLEY_FUZZ_CHECK(next.members_size() + 1 == reference.members_size());
    PARLEY_FUZZ_CHECK(next.members_size() == 0 || has_admin(next));
  }
  if (groups::authorized(reference, next)) {
    PARLEY_FUZZ_CHECK(next.group_id() == reference.group_id());
    PARLEY_FUZZ_CHECK(leave || groups::is_admin(reference, as_bytes(next.author_account_id())));
  }
}

// Every member of a valid state may leave it: the leave rule must accept the state that
// without_member() makes, and that state must still be a valid one.
void check_leave(const content::GroupState& reference, std::size_t which) {
  if (reference.members_size() == 0) return;
  const auto& leaver = reference.members(static_cast<int>(which % reference.members_size()));
  content::GroupState left = groups::without_member(reference, as_bytes(leaver.account_id()));
  left.set_author_account_id(leaver.account_id());
  if (reference.version() < std::numeric_limits<std::uint64_t>::max()) {
    left.set_version(reference.version() + 1);
  }
  PARLEY_FUZZ_CHECK(!groups::is_member(left, as_bytes(leaver.account_id())));
  PARLEY_FUZZ_CHECK(left.members_size() + 1 == reference.members_size());
  PARLEY_FUZZ_CHECK(left.members_size() == 0 || has_admin(left));
  PARLEY_FUZZ_CHECK(groups::is_leave_of_author(reference, left));
  PARLEY_FUZZ_CHECK(groups::authorized(reference, left));
  auto reparsed = groups::parse_state(as_bytes(left.SerializeAsString()));
  PARLEY_FUZZ_CHECK(reparsed.ok() || reparsed.status().code() == ErrorCode::kTooLarge);
}

// A change made again on top of its own parent gives the changed state back (what rebasing a
// lost change relies on).
void check_rebase(const content::GroupState& before, const content::GroupState& after) {
  const groups::GroupChange change = groups::diff(before, after);
  content::GroupState again = before;
  const bool changed = groups::apply_change(again, change);
  PARLEY_FUZZ_CHECK(changed == !change.empty());
  PARLEY_FUZZ_CHECK(roles(again) == roles(after));
  PARLEY_FUZZ_CHECK(again.name() == after.name() && again.avatar() == after.avatar());
  PARLEY_FUZZ_CHECK(groups::diff(after, again).empty());
  auto reparsed = groups::parse_state(as_bytes(again.SerializeAsString()));
  PARLEY_FUZZ_CHECK(reparsed.ok() || reparsed.status().code() == ErrorCode::kTooLarge);
}

// The decision of Client::Impl::apply_group_state for a known group.
void check_acceptance(const Parsed& current, const std::optional<Parsed>& previous,
                      const Parsed& next) {
  check_authorized(current.state, next.state);
  if (next.state.version() != current.state.version()) return;  // older, or newer + authorized
  if (next.serialized == current.serialized) return;            // the one we hold
  // A concurrent change is judged against the state both were made on, when we still have it.
  if (previous && previous->state.version() + 1 == next.state.version()) {
    check_authorized(previous->state, next.state);
  }
  // The tie-break is a strict order on different states: exactly one side wins everywhere.
  const Bytes ours = groups::state_hash(current.serialized);
  const Bytes theirs = groups::state_hash(next.serialized);
  PARLEY_FUZZ_CHECK(ours.size() == 32 && theirs.size() == 32);
  PARLEY_FUZZ_CHECK((theirs < ours) != (ours < theirs));
}

}  // namespace

// Protobuf logs every proto3 string with invalid UTF-8 it refuses; quiet, the fuzzer runs faster.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  auto take = [&in]() -> ByteView {
    if (in.size() < 2) {
      ByteView all = in;
      in = {};
      return all;
    }
    std::size_t length = (std::size_t{in[0]} << 8) | in[1];
    in = in.subspan(2);
    length = std::min(length, in.size());
    ByteView part = in.first(length);
    in = in.subspan(length);
    return part;
  };
  const ByteView current_bytes = take();
  const ByteView previous_bytes = take();
  const ByteView next_bytes = in;

  auto current = parse_signed(current_bytes);
  auto previous = parse_signed(previous_bytes);
  auto next = parse_signed(next_bytes);
  const std::size_t which = size == 0 ? 0 : data[size - 1];
  for (const auto* parsed : {&current, &previous, &next}) {
    if (*parsed) check_leave((*parsed)->state, which);
  }
  if (current && next) {
    check_rebase(current->state, next->state);
    check_acceptance(*current, previous, *next);
  }
  if (previous && next) check_rebase(previous->state, next->state);
  return 0;
}
