// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// What the attachment upload and download halves share: limits, the request helper that keeps
// a response's body whatever its status, and which errors end a transfer for good.

#include <cstdint>
#include <string>

#include "attachment_crypto.h"
#include "client_impl.h"
#include "parley/proto/limits.h"

namespace parley::client::attachment {

// The server's default blob limit is 100 MiB of ciphertext; the plaintext limit follows from it.
inline constexpr std::uint64_t kMaxCiphertextBytes = 100ull * 1024 * 1024;
inline constexpr std::uint64_t kMaxPlaintextBytes =
    kMaxCiphertextBytes - kHeaderBytes -
    kChunkOverheadBytes *
        ((kMaxCiphertextBytes + kDefaultPlainChunkBytes - 1) / kDefaultPlainChunkBytes);
// One request's chunk: small enough that a transfer keeps working where a censor freezes a flow
// after ~16 KB (CENSORSHIP.md), and resumes cheaply after any disconnect.
inline constexpr std::uint32_t kDefaultChunkBytes = 12 * 1024;
// Progress is reported every this many chunks, and once at the end.
inline constexpr std::uint32_t kProgressEveryChunks = 4;

// The Status of a server response, except that the server's own storage failures become
// kResourceExhausted: they are the server's trouble (retry later), not this device's disk.
Status server_status(const wire::Response& response);
// impl.call(), with server_status() for a response that is not ok.
Result<wire::Response> call_server(Client::Impl& impl, wire::Request request);

// Errors after which retrying the same transfer cannot help: the file is too large, over quota,
// gone from the server, changed, or its description is invalid.
bool gives_up(ErrorCode code);

// Retry delay after a transient failure: 1 s doubling up to 10 minutes.
std::int64_t backoff_ms(std::uint32_t attempts);

std::string file_name_of(const content::AttachmentPointer& pointer);

}  // namespace parley::client::attachment
