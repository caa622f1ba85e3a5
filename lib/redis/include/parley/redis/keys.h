// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Key and channel names of cluster mode, in one place. Binary parts (account ids, rate-limit
// keys) are hex, so a name never holds a brace that would move its hash tag.
//
// A device's presence key and its wake-up channel share the hash tag {<account hex>.<device id>},
// so they live in the same slot, on the same master: a node that sets presence and a node that
// publishes a wake-up talk to the same Redis process, and a Lua script may touch both. Account ids
// are random, so devices spread evenly over the slots.

#include <cstdint>
#include <string>
#include <string_view>

#include "parley/util/bytes.h"

namespace parley::redis {

// "p:{<account hex>.<device id>}": which parleyd node holds the device's connection.
std::string presence_key(ByteView account_id, std::uint32_t device_id);

// "w:{<account hex>.<device id>}": sharded pub/sub channel that wakes the device's connection up
// when something was committed to its mailbox.
std::string wakeup_channel(ByteView account_id, std::uint32_t device_id);

// "rl:{<key hex>}:<name>": the token bucket of one abuse limit (`name`, e.g. "sends_per_account")
// for one key (an account id, an address group). The tag is the key alone, so all of one
// account's buckets share a slot.
std::string rate_limit_key(ByteView key, std::string_view name);

// "lc:<code>": a device-link code, holding its account's id in hex. No tag: codes are random and
// spread over the slots.
std::string link_code_key(std::string_view code);

// "lca:{<account hex>}": the account's current link code, so that a new code (or the account's
// deletion) can remove the previous one.
std::string link_code_account_key(ByteView account_id);

}  // namespace parley::redis
