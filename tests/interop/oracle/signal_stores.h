// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// In-memory versions of the five stores libsignal-protocol-c reads and writes through callbacks:
// sessions, one-time prekeys, signed prekeys, identities (trust on first use) and sender keys.
// Records are kept as the opaque serialized bytes libsignal hands us.

#include <signal_protocol.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace parley::interop::detail {

using RecordBytes = std::vector<std::uint8_t>;

struct InMemoryStores {
  // (name, device id) → session record.
  std::map<std::pair<std::string, std::int32_t>, RecordBytes> sessions;
  std::map<std::uint32_t, RecordBytes> pre_keys;
  std::map<std::uint32_t, RecordBytes> signed_pre_keys;
  // Remote name → identity key (33 bytes, 0x05-prefixed) seen first.
  std::map<std::string, RecordBytes> identities;
  // (group id, sender name, sender device) → sender key record.
  std::map<std::tuple<std::string, std::string, std::int32_t>, RecordBytes> sender_keys;

  RecordBytes identity_public;   // serialized ec_public_key
  RecordBytes identity_private;  // serialized ec_private_key
  std::uint32_t registration_id = 0;

  ~InMemoryStores();  // wipes private key and records
};

// Points every store of `store_context` at `stores`, which must outlive the context.
// Returns a libsignal error code (0 on success).
int install_stores(signal_protocol_store_context* store_context, InMemoryStores* stores);

}  // namespace parley::interop::detail
