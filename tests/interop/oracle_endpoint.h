// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Adapts a LibsignalPeer talking to one remote address into a conversation Endpoint.

#include <string>
#include <utility>

#include "conversation.h"
#include "libsignal_peer.h"

namespace parley::interop {

inline Endpoint oracle_endpoint(LibsignalPeer& peer, OracleAddress remote) {
  Endpoint endpoint;
  endpoint.label = "libsignal(" + peer.address().name + ")";
  endpoint.encrypt = [&peer, remote](const WireBytes& plaintext) -> Step<WireMessage> {
    OracleResult<OracleCiphertext> out = peer.encrypt(remote, plaintext);
    if (!out.ok()) return {{}, "libsignal error " + std::to_string(out.error)};
    return {{out.value.type, std::move(out.value.bytes)}, {}};
  };
  endpoint.decrypt = [&peer, remote](const WireMessage& message) -> Step<WireBytes> {
    OracleResult<OracleBytes> out = peer.decrypt(remote, message.type, message.bytes);
    if (!out.ok()) return {{}, "libsignal error " + std::to_string(out.error)};
    return {std::move(out.value), {}};
  };
  return endpoint;
}

}  // namespace parley::interop
