// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// How an OpenSSL context trusts the peer's certificate, the same way for every TLS connection the
// client makes (parleyd, a DoH resolver): not at all when a pin is checked after the handshake,
// by a CA/certificate file, or by the system's store. Plain OpenSSL: no Asio here.

#include <openssl/ssl.h>

#include "parley/net/websocket_channel.h"
#include "parley/util/status.h"

namespace parley::net {

// `pinned`: the caller compares the leaf certificate with a pin after the handshake, before it
// sends a byte, so the chain is not verified. Otherwise trust.ca_file (PEM; every certificate in
// it is an anchor, so a self-signed peer is trusted by naming its own certificate) or, when empty,
// the system's store. Host name checks stay with the caller.
Status configure_trust(SSL_CTX* ctx, const TlsTrust& trust, bool pinned);

}  // namespace parley::net
