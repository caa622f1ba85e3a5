// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Key and channel names of cluster mode, in one place.
//
// A device's presence key and its wake-up channel share the hash tag {<account hex>.<device id>},
// so they live in the same slot, on the same master: a node that sets presence and a node that
// publishes a wake-up talk to the same Redis process, and a Lua script may touch both. Account ids
// are random, so devices spread evenly over the slots.

#include <cstdint>
#include <string>

#include "parley/util/bytes.h"

namespace parley::redis {

// "p:{<account hex>.<device id>}": which parleyd node holds the device's connection.
std::string presence_key(ByteView account_id, std::uint32_t device_id);

// "w:{<account hex>.<device id>}": sharded pub/sub channel that wakes the device's connection up
// when something was committed to its mailbox.
std::string wakeup_channel(ByteView account_id, std::uint32_t device_id);

}  // namespace parley::redis
