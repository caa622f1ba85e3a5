// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The private state of a Client and the functions that work on it, one file per feature:
//   client.cpp          open, connection and sign-in, the public methods that glue things
//   account_setup.cpp   sign-up, linking, prekeys, the primary's device list
//   directory.cpp       contacts: usernames, pinned identity keys, verified device sets
//   sessions.cpp        Sesame: encrypt to every device of an account, decrypt from any
//   outbox.cpp          queueing, encrypting once, sending exactly once, device-set retries
//   receiver.cpp        pushes: envelopes → messages, receipts, typing, transcripts; acks
//   groups.cpp          group membership: admin-signed states, the Client's group methods
//   group_send.cpp      sender keys and group messages in the outbox
//   group_receive.cpp   sender-key envelopes, distributions, group texts

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
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
  kSenderKey = 4,   // distribution id (16 bytes) || a SenderKeyMessage (group_send.cpp)
  kLinkProof = 32,  // a content::LinkProof follows, in the clear (it is MACed)
};

inline constexpr std::size_t kClientMessageIdSize = 16;
inline constexpr std::size_t kMaxTextBytes = 32 * 1024;  // one text message, before padding
inline constexpr int kMaxDeviceMismatchRetries = 3;
inline constexpr std::size_t kMaxAcksPerRequest = 256;

// One AckMessages request for the first (at most kMaxAcksPerRequest) of `seqs`; `count` says how
// many it holds.
wire::Request ack_request(const std::vector<std::uint64_t>& seqs, std::size_t& count);
// On a freezing network: the push window the client asks for (AuthenticateRequest).
inline constexpr std::uint32_t kFreezeWindowBytes = 4096;

std::string hex_id(ByteView id);

inline bool same_bytes(ByteView a, ByteView b) {
  return as_string_view(a) == as_string_view(b);
}

// The server could not be reached or answered nothing: nothing was decided, retry later.
inline bool is_network_error(ErrorCode code) {
  return code == ErrorCode::kConnectionClosed || code == ErrorCode::kTimeout ||
         code == ErrorCode::kUnavailable || code == ErrorCode::kCertificateUntrusted ||
         code == ErrorCode::kStalled || code == ErrorCode::kProxyFailed ||
         code == ErrorCode::kRelayRefused || code == ErrorCode::kCancelled;
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
  // Staying connected (client.cpp): the race between routes, what worked on which network, and
  // whether this network freezes flows (then connections are rotated under the budget).
  std::unique_ptr<net::TransportManager> transport;
  std::optional<net::TransportMemory> transport_memory;
  std::string network;    // net::network_id() when the current connection was made
  std::string route_key;  // the candidate the current connection went through
  bool freeze_mode = false;
  std::uint64_t frames_at_sign_in = 0;  // the connection's frames_received() when sign-in ended
  // The link secret while the primary waits for a new device.
  std::optional<std::string> link_secret;
  std::optional<std::uint32_t> linked_device;

  std::int64_t now_ms() const;
  void emit(const Event& event) const;
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
  // Like call(), but a non-zero status is in the response, not the error (the caller reads its
  // body, e.g. a device mismatch). Either way a broken connection is dropped.
  Result<wire::Response> call_raw(wire::Request request);
  Result<ServerSettings> saved_server();
  // Rotation on a freezing network (freeze_mode): how many more bytes this connection may
  // receive before the budget; unlimited otherwise.
  std::uint64_t reply_room() const;
  // Replaces the connection (acks sent first, then a fresh sign-in) when a reply of
  // `expected_reply` bytes would not fit in its budget. A connection that has received nothing
  // since its sign-in is never replaced, so a budget smaller than a sign-in cannot loop.
  Status make_room(std::uint64_t expected_reply = 1024);

  // ---- client.cpp: network settings and transport memory ----
  Result<NetworkSettings> load_network_settings();
  Status save_network_settings(const NetworkSettings& settings);
  net::TransportMemory& memory();
  void save_memory();

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
  // Writes an outgoing text into history (pending) and the conversation's activity; fills the
  // content's client_message_id (when empty), sent_ms and expire_seconds. Caller's transaction.
  Status record_outgoing_text(ByteView peer, content::Content& content);
  // Queues a text to `recipient` and its transcript to our other devices. Caller's transaction.
  Status queue_direct_text(ByteView recipient, const content::Content& content);
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

  // ---- groups: group_state.cpp, group_send.cpp, group_receive.cpp (docs/client.md "Groups") ----
  // A group id (32 hex digits), a unique prefix of one, or a group name (unique among ours) →
  // the 16-byte group id. kNotFound / kInvalidArgument (ambiguous).
  Result<Bytes> resolve_group(const std::string& group);
  // Queues `content` (a text, with or without an attachment) as one Sender Key message to every
  // current member device of the group: sets content.group_id, fills client_message_id/sent_ms
  // when empty, writes nothing into history (the caller does). kPermissionDenied when we are no
  // longer a member. Call inside the caller's transaction to keep history and outbox together.
  Status queue_group_content(ByteView group_id, const content::Content& content);

  // groups.cpp: membership states.
  Result<GroupRecord> load_group(ByteView group_id);
  Result<content::GroupState> group_state_of(const GroupRecord& record);
  // A member's name for people: the contact's username, else the author's hint, else an id prefix.
  std::string group_member_name(const content::GroupState& state, ByteView account_id);
  GroupView group_view(const GroupRecord& record, const content::GroupState& state);
  // A group we are in and an admin of (kPermissionDenied otherwise).
  Result<std::pair<GroupRecord, content::GroupState>> admin_group(const std::string& group);
  Result<content::GroupMember> member_for_username(const std::string& username);
  Result<Bytes> member_account(const content::GroupState& state, const std::string& username);
  // Checks the signature (the author's pinned identity key) and the structure.
  Result<content::GroupState> verify_group_state(const content::SignedGroupState& signed_state);
  // A state from the network (or our other device): accepted, ignored or refused by the rules in
  // groups.cpp; a concurrent change of ours that lost is made again on top of the winner.
  Status apply_group_state(const content::SignedGroupState& signed_state);
  // Saves `next` as the group's state: identities pinned, sending keys of removed members
  // forgotten and ours replaced, a system note, a kGroupChanged event.
  Status install_group_state(const std::optional<GroupRecord>& existing, Bytes previous_state,
                             const content::GroupState& next, Bytes serialized,
                             bool authored_by_us);
  // Primary only: signs `next` as the version after `current`, installs it and queues it to
  // every member of the old and the new state (and our other devices).
  Status publish_group_state(const std::optional<GroupRecord>& current, content::GroupState next);

  // group_send.cpp: our sending keys and group messages in the outbox.
  Status send_group_entry(OutboxEntry& entry);
  // A kSenderKey row in its turn: sent unless our key was replaced since (then dropped: an old
  // key arriving after the new one must not displace it).
  Status send_sender_key_entry(OutboxEntry& entry);
  // After the server took a kSenderKey entry: its devices hold our current key.
  Status note_sender_key_delivered(const OutboxEntry& entry, const content::Content& content);
  // The next group message makes a new key (new distribution id) and sends it to the members.
  Status forget_own_sender_key(ByteView group_id);
  // Outbox rows sent ahead of their turn (distributions before a group message): flush skips them.
  std::set<std::int64_t> outbox_sent_early;

  // group_receive.cpp
  Result<SecretBytes> decrypt_group(ByteView sender_account, std::uint32_t sender_device,
                                    ByteView ciphertext);
  Status apply_group_content(const wire::Envelope& envelope, const content::Content& content);

  // ---- attachments: attachment_upload.cpp, attachment_download.cpp (docs/client.md
  // "Attachments") ----
  std::optional<std::filesystem::path> download_dir;  // set_download_dir(); else <home>/downloads
  TransferProgressHandler on_progress;
  // While listen() runs: transfers stop between chunks when it returns false (resumed later).
  const std::function<bool()>* keep_going = nullptr;
  bool transfers_stopped() const { return keep_going != nullptr && !(*keep_going)(); }
  bool attachments_swept = false;  // leftover encrypted copies removed once per process
  std::filesystem::path downloads_path() const;
  // Encrypts `path` into <home>/attachments, writes the outgoing message into history and the
  // upload into the store (one transaction), for a contact or (is_group) a group id.
  Result<std::string> queue_attachment(ByteView peer, bool is_group,
                                       const std::filesystem::path& path,
                                       const std::string& caption);
  // Uploads what is waiting, resuming each blob from what the server holds; a finished upload
  // queues its message. Stops at the first network error.
  Status run_uploads();
  // Downloads, checks and saves received files; emits kFileReceived. Stops at the first network
  // error; a file that is gone, changed or invalid is marked failed (kWarning), never retried.
  Status run_downloads();
  // For a text just stored by the receiver (inside its transaction): when it carries a file,
  // records the download and puts the file's name and size on `event`.
  Status record_received_attachment(const MessageRecord& message, const content::Text& text,
                                    Event& event);
  void report_progress(const TransferProgress& progress) const;
};

}  // namespace parley::client
