// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Every size and count limit of the client <-> server protocol in one place. A frame that breaks
// one of these is refused before any handler sees it (decode.h). docs/protocol.md lists them.

#include <cstddef>
#include <cstdint>

namespace parley::proto {

// The only protocol version this code speaks. A frame with another version is refused with
// kUnsupportedVersion and the connection is closed.
inline constexpr std::uint32_t kProtocolVersion = 1;

// Fixed sizes of the wire's cryptographic fields.
inline constexpr std::size_t kPublicKeySize = 33;  // 0x05 || u
inline constexpr std::size_t kSignatureSize = 64;  // XEdDSA
inline constexpr std::size_t kAccountIdSize = 16;
inline constexpr std::size_t kChallengeSize = 32;
inline constexpr std::size_t kAttachmentIdSize = 16;

// Usernames: ASCII, normalized to lowercase, [a-z0-9_.]{3,32}.
inline constexpr std::size_t kMinUsernameLength = 3;
inline constexpr std::size_t kMaxUsernameLength = 32;

struct Limits {
  std::size_t max_frame_bytes = 256UL * 1024;      // one encoded Frame (one WebSocket message)
  std::size_t max_ciphertext_bytes = 64UL * 1024;  // one message copy for one device
  std::size_t max_copies_per_send = 16;            // recipient devices in one send
  std::size_t min_client_message_id_bytes = 8;     // client message id (dedupe key)
  std::size_t max_client_message_id_bytes = 64;
  std::size_t max_prekeys_per_upload = 100;         // one-time prekeys in one upload
  std::size_t max_acks_per_request = 256;           // seqs in one ack
  std::size_t max_signed_device_list_bytes = 4096;  // opaque, signed by the primary device
  std::size_t max_pow_nonce_bytes = 64;
  std::size_t max_link_code_bytes = 64;
  std::size_t max_username_input_bytes = 64;  // before normalization (longer: refused)
  std::size_t max_error_message_bytes = 512;  // human text in a response
  // Group fan-out: accounts in one send_group_message (each with at most max_copies_per_send
  // devices); the one ciphertext is at most max_ciphertext_bytes.
  std::size_t max_group_recipient_accounts = 1000;
  // One attachment upload or download chunk. Clients default to 12 KiB so a transfer keeps
  // working where a censor freezes flows after ~16 KB (DESIGN.md "Staying connected").
  std::size_t max_attachment_chunk_bytes = 64UL * 1024;
};

}  // namespace parley::proto
