// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The private state of a Client and the functions that work on it, one file per feature:
//   client.cpp          open, connection and sign-in, the public methods that glue things
//   account_setup.cpp   sign-up, linking, prekeys, the primary's device list
//   directory.cpp       contacts: usernames, pinned identity keys, verified device sets
//   sessions.cpp        Sesame: encrypt to every device of an account, decrypt from any
//   outbox.cpp          queueing, encrypting once, sending exactly once, device-set retries
//   receiver.cpp        pushes: envelopes → messages, receipts, typing, transcripts; acks

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/client.h"
#include "parley/client/content.pb.h"
#include "parley/client/device_list.h"
#include "parley/client/local_store.h"
#include "parley/crypto/address.h"
#include "parley/util/clock.h"
#include "server_connection.h"

namespace parley::client {

// The first byte of every ciphertext the client puts into an envelope.
enum class EnvelopeType : std::uint8_t {
  kSignal = 2,      // a SignalMessage follows (crypto::MessageType::kSignal)
  kPreKey = 3,      // a PreKeySignalMessage follows
  kLinkProof = 32,  // a content::LinkProof follows, in the clear (it is MACed)
};

inline constexpr std::size_t kClientMessageIdSize = 16;
inline constexpr std::size_t kMaxTextBytes = 32 * 1024;  // one text message, before padding
inline constexpr int kMaxDeviceMismatchRetries = 3;

std::string hex_id(ByteView id);

inline bool same_bytes(ByteView a, ByteView b) {
  return as_string_view(a) == as_string_view(b);
}

// The server could not be reached or answered nothing: nothing was decided, retry later.
inline bool is_network_error(ErrorCode code) {
  return code == ErrorCode::kConnectionClosed || code == ErrorCode::kTimeout ||
         code == ErrorCode::kUnavailable || code == ErrorCode::kCertificateUntrusted;
}

// The local database failed: the transaction rolled back; retry later.
inline bool is_storage_error(ErrorCode code) {
  return code == ErrorCode::kStorageIo || code == ErrorCode::kStorageCorrupt ||
         code == ErrorCode::kStorageFull;
}

struct Client::Impl {
  ClientOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<LocalStore> store;
  std::optional<AccountRecord> account;  // cached account row
  std::unique_ptr<ServerConnection> connection;
  bool signed_in = false;
  bool queue_empty_seen = false;  // the server said the waiting queue was pushed
  bool offline = false;
  EventHandler on_event;
  std::vector<std::uint64_t> pending_acks;
  // The link secret while the primary waits for a new device.
  std::optional<std::string> link_secret;
  std::optional<std::uint32_t> linked_device;

  std::int64_t now_ms() const;
  void emit(Event event) const;
  Bytes own_account_id() const { return account ? account->account_id : Bytes{}; }
  std::string own_hex() const { return hex_id(own_account_id()); }
  bool is_primary() const { return account && account->device_id == 1; }
  Status require_account() const;
  Status require_no_account() const;  // sign-up and joining start from an empty home

  // ---- client.cpp: connection ----
  Result<std::unique_ptr<net::FrameChannel>> open_channel(const ServerSettings& server);
  Status connect_unauthenticated(const ServerSettings& server);
  Status ensure_signed_in();
  void drop_connection();
  Result<wire::Response> call(wire::Request request);  // signed in first
  ServerSettings saved_server() const;

  // ---- account_setup.cpp ----
  Status upload_prekeys(bool with_signed_prekey, std::uint32_t count);
  Status publish_device_list(const DeviceSet& devices);
  Result<DeviceSet> own_device_set(bool refresh);
  Status handle_device_list_changed();
  Status handle_link_proof(ByteView sender_account, std::uint32_t sender_device, ByteView proof);

  // ---- directory.cpp ----
  // The contact behind a username: known, or looked up (trust on first use). A username that now
  // names another account, or an account whose identity key changed, marks identity_changed,
  // clears verified and emits kIdentityChanged.
  Result<Contact> contact_for_username(const std::string& username, bool allow_network);
  // The contact for an account id; unknown accounts are fetched (GetDevices) and pinned.
  Result<Contact> contact_for_account(ByteView account_id);
  // The verified device set of an account (our own included), cached in the contact row;
  // `refresh` asks the server again.
  Result<DeviceSet> device_set(ByteView account_id, bool refresh);
  std::string display_name(ByteView account_id);
  Status server_swapped_identity(const Contact& contact);

  // ---- sessions.cpp ----
  // Encrypts `plaintext` (already padded) to every device of `devices` except this one; fetches
  // prekey bundles for devices without a session. Network first, then one transaction.
  Result<wire::SendMessageRequest> encrypt_for(const DeviceSet& devices, ByteView plaintext,
                                               ByteView client_message_id);
  Status prepare_sessions(const DeviceSet& devices);
  // Makes sure the sending device's key is known (from its verified device list) before its
  // message is decrypted. Network only.
  Status prepare_decrypt(ByteView sender_account, std::uint32_t sender_device, ByteView ciphertext);
  Result<SecretBytes> decrypt(ByteView sender_account, std::uint32_t sender_device,
                              ByteView ciphertext);

  // ---- outbox.cpp ----
  Status queue_content(ByteView recipient, const content::Content& content);
  Result<Bytes> queue_text_to(const Contact& contact, const std::string& text);
  Status queue_receipt(ByteView recipient, content::Receipt::Type type,
                       const std::vector<Bytes>& client_message_ids);
  Status flush_outbox();
  Status send_entry(OutboxEntry& entry);

  // ---- receiver.cpp ----
  Status handle_push(const wire::Push& push);
  Status handle_envelope(const wire::Envelope& envelope);
  Status apply_content(const wire::Envelope& envelope, const content::Content& content);
  Status flush_acks();
  // Processes pushes until none arrives within `idle`; returns on error.
  Status drain_pushes(std::chrono::milliseconds idle);
};

}  // namespace parley::client
