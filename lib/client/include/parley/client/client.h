// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The Parley client core: everything a client app (the `parley` CLI, the desktop client) needs to
// be one device of an account. It owns the local encrypted store of one home directory and, while
// connected, one channel to parleyd. Apps stay thin: they call these methods and render events.
//
// Threading: a Client is used from one thread. Methods that talk to the server connect on demand
// (sign-in included) and return errors as numbered Status codes with a sentence for people.
//
// docs/client.md describes the flows (sign-up, linking, sessions across devices, the outbox,
// receipts, disappearing messages) and the on-disk layout of a home.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/events.h"
#include "parley/client/local_store.h"
#include "parley/net/frame_channel.h"
#include "parley/net/transport_manager.h"
#include "parley/net/websocket_channel.h"
#include "parley/util/clock.h"
#include "parley/util/status.h"

namespace parley::client {

using namespace std::chrono_literals;

// How a Client reaches the server. The default connects with TLS WebSocket to the server saved in
// the home; tests may plug in another transport.
using Connector = std::function<Result<std::unique_ptr<net::FrameChannel>>(
    const std::string& server, const net::TlsTrust& trust)>;

struct ClientOptions {
  std::filesystem::path home;             // created on init; holds parley.db and its key
  std::optional<std::string> passphrase;  // none: a key file (see database_key.h)
  const Clock* clock = nullptr;           // nullptr: the system clock
  Connector connector;                    // empty: TLS WebSocket
  std::chrono::milliseconds request_timeout = 30s;
  // One-time prekeys kept on the server: topped up to kPrekeyBatch when below kPrekeyLowWater.
  std::uint32_t prekey_batch = 100;
  std::uint32_t prekey_low_water = 20;
  // While a reply is owed, a connection that receives no byte for this long is given up
  // (kStalled) and replaced: censors drop flows silently instead of resetting them. Zero: off.
  std::chrono::milliseconds stall_timeout = 5s;
  // On a network where a freeze was seen (a connection stalled after receiving this much or
  // more), each connection is replaced once it has received freeze_budget_bytes, before the
  // censor's ~16 KB threshold (CENSORSHIP.md).
  std::uint64_t freeze_suspect_bytes = 8ULL * 1024;
  std::uint64_t freeze_budget_bytes = 14ULL * 1024;
  // How candidates (direct endpoints, relays) are raced.
  net::TransportManagerOptions transport;
};

// How this device reaches its server besides the server's own address (docs/client.md "Staying
// connected"). Saved in the encrypted store; every path still ends in TLS to parleyd, checked
// with the account's pin or CA.
struct NetworkSettings {
  std::string tls_name;                // SNI/verified name when the server is an IP literal
  std::vector<std::string> endpoints;  // extra direct "host:port" of the same server
  std::vector<net::RelayLink> relays;  // from parley://relay links
  net::ProxyConfig proxy;              // SOCKS5 or HTTP CONNECT for every path
  std::string doh_url;                 // DNS over HTTPS; empty: the system resolver
  net::TlsTrust doh_trust;             // the resolver's certificate pin or CA; empty: system
};

struct ServerSettings {
  std::string server;  // "host:port"
  net::TlsTrust trust;
  NetworkSettings network;
};

// What `parley network` shows.
struct NetworkReport {
  NetworkSettings settings;
  std::string network_id;    // this network (see net::network_id())
  std::string last_route;    // the candidate that last worked on this network ("" if none)
  bool freeze_mode = false;  // a freeze was seen on this network: connections are rotated
  net::TransportStatus status;
};

// Reported while the sign-up proof of work runs (about a million hashes at 20 bits).
using PowProgress = std::function<void(std::uint64_t hashes_tried, std::uint32_t difficulty_bits)>;

struct AccountInfo {
  std::string account_id_hex;
  std::uint32_t device_id = 0;
  std::string username;
  std::string server;
  std::string identity_fingerprint;    // the account identity key, hex, grouped for reading
  std::vector<std::uint32_t> devices;  // from the signed device list we last verified
};

struct ContactView {
  std::string account_id_hex;
  std::string username;
  bool verified = false;
  bool identity_changed = false;
};

struct ChatSummary {
  ContactView contact;
  std::int64_t last_activity_ms = 0;
  std::uint32_t unread = 0;
  std::int64_t disappearing_seconds = 0;
  std::optional<MessageRecord> last_message;
};

struct SafetyNumber {
  std::string digits;  // 60 digits, the same on both phones
  Bytes scannable;     // what the QR code encodes
  bool verified = false;
};

// ---- Groups (docs/client.md "Groups") ----

struct GroupMemberView {
  std::string account_id_hex;
  std::string username;
  bool admin = false;
};

struct GroupView {
  std::string group_id_hex;  // 32 hex digits; commands accept it, a unique prefix, or the name
  std::string name;
  std::uint64_t version = 0;
  std::vector<GroupMemberView> members;  // ascending account id
  bool is_member = false;                // false after we left or were removed
  bool is_admin = false;
  std::uint32_t unread = 0;
  std::int64_t last_activity_ms = 0;
};

// ---- Attachments (docs/client.md "Attachments") ----

// Progress of one file transfer; called at least every few chunks and once at the end.
struct TransferProgress {
  std::string client_message_id_hex;  // the message the file belongs to
  std::string file_name;
  bool upload = true;
  std::uint64_t done_bytes = 0;  // ciphertext bytes acknowledged so far
  std::uint64_t total_bytes = 0;
};
using TransferProgressHandler = std::function<void(const TransferProgress&)>;

// A file attached to a message, as the local store knows it.
struct AttachmentView {
  std::string client_message_id_hex;
  std::string file_name;
  std::string content_type;
  std::uint64_t size = 0;  // plaintext bytes
  std::string local_path;  // where the plaintext is (sent: the source; received: once downloaded)
  enum class State { kPending, kDone, kFailed } state = State::kPending;
  std::string error;  // kFailed: why, in words
};

// A link code as the primary shows it: the server's code, then a secret the server never sees.
struct LinkCode {
  std::string text;  // "<server code>-<secret>", typed or scanned on the new device
  std::int64_t expires_ms = 0;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> open(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Every event (incoming message, receipt, typing, identity change, ...) goes here, on the
  // calling thread, while a method that talks to the server runs.
  void set_event_handler(EventHandler handler);

  bool initialized() const;

  // Offline mode: nothing connects (methods that need the server fail with kUnavailable, and
  // queue_text() works only for known contacts). Apps set it when another process of the same
  // home holds the connection (see home_lock.h): two connections as one device would replace
  // each other on the server.
  void set_offline(bool offline);

  // ---- Account lifecycle -----------------------------------------------------------------------

  // Creates the identity, signs up with proof of work, uploads prekeys and the first signed
  // device list, and sets the username if given. kAlreadyExists when the home has an account.
  Status create_account(const ServerSettings& server, const std::string& username,
                        const PowProgress& progress);
  // Primary only: asks the server for a link code. Show it, then call wait_for_link().
  Result<LinkCode> create_link_code();
  // Primary only: waits (connected) until a device joined with the code and proved it knows the
  // secret half, then signs and uploads the new device list. Returns the new device's id.
  Result<std::uint32_t> wait_for_link(const LinkCode& code, std::chrono::milliseconds timeout);
  // On the new device: links with a code from the primary, uploads prekeys, proves the secret
  // to the primary, and waits until the primary's signed device list names this device.
  Status join_device(const ServerSettings& server, const std::string& code,
                     std::chrono::milliseconds timeout);
  Result<AccountInfo> whoami();
  Status set_username(const std::string& username);  // primary only; "" removes it
  // Looks a username up on the server and remembers the contact (trust on first use).
  Result<ContactView> lookup(const std::string& username);
  // Primary only: removes a linked device and signs the new device list.
  Status remove_device(std::uint32_t device_id);

  // ---- Messaging -------------------------------------------------------------------------------

  // Puts a text into the outbox (no network): it is sent by the next flush()/sync()/listen(),
  // exactly once, even across crashes. Returns the client message id (hex).
  Result<std::string> queue_text(const std::string& username, const std::string& text);
  // Sends what the outbox holds. Stops at the first network error (the rest stays queued).
  Status flush();
  // Connects, flushes the outbox, processes everything waiting on the server, acks it, and
  // returns when the server said its queue is empty (and replies like receipts are sent).
  Status sync();
  // Stays connected and processes messages as they arrive, flushing the outbox as it fills,
  // until `keep_going` returns false (checked at least every `tick`) or the connection fails
  // (then returns the error; callers reconnect with backoff).
  Status listen(const std::function<bool()>& keep_going, std::chrono::milliseconds tick = 200ms);
  // Encrypts a file for `username` (a fresh key per file, authenticated chunks), keeps the
  // encrypted copy in the home until it is uploaded, and queues the message that carries its key;
  // flush()/sync()/listen() upload it in small chunks, resuming after any disconnect or restart.
  // `caption` may be empty. Returns the client message id (hex). Over the size limit: kTooLarge.
  Result<std::string> queue_file(const std::string& username, const std::filesystem::path& path,
                                 const std::string& caption = "");
  // Where received files go (created if missing; default: <home>/downloads). Received files are
  // downloaded by sync()/listen() and reported with a kFileReceived event.
  void set_download_dir(const std::filesystem::path& dir);
  // Upload and download progress, on the calling thread.
  void set_transfer_progress_handler(TransferProgressHandler handler);
  // The file attached to a message of a conversation (a username or a group), if any.
  Result<std::optional<AttachmentView>> attachment(const std::string& conversation,
                                                   const std::string& client_message_id_hex);

  // Groups: membership lives with the members as admin-signed states; messages are Sender Key
  // ciphertexts the server fans out. `group` is a group id (hex), a unique id prefix, or a name.
  // Changing a group (create, add, remove, leave, admin, rename) needs the primary device, which
  // holds the identity key that signs the state; every device sends and receives group messages.
  // Changes are queued like messages and go out with the next flush()/sync()/listen().
  Result<GroupView> create_group(const std::string& name,
                                 const std::vector<std::string>& usernames);
  Status add_group_members(const std::string& group, const std::vector<std::string>& usernames);
  Status remove_group_member(const std::string& group, const std::string& username);
  Status leave_group(const std::string& group);
  // Admins only: makes a member an admin (or no longer one; a group keeps at least one admin).
  Status set_group_admin(const std::string& group, const std::string& username, bool admin);
  // Admins only: a new name (1 to 128 bytes).
  Status rename_group(const std::string& group, const std::string& name);
  Result<GroupView> group_info(const std::string& group);
  Result<std::vector<GroupView>> groups();
  Result<std::string> queue_group_text(const std::string& group, const std::string& text);
  Result<std::string> queue_group_file(const std::string& group, const std::filesystem::path& path,
                                       const std::string& caption = "");
  // The newest `limit` messages and notes of a group, oldest first; marks the group read (groups
  // send no read receipts).
  Result<std::vector<MessageRecord>> group_history(const std::string& group, std::size_t limit);

  // Marks a conversation read and queues read receipts for it.
  Status mark_read(const std::string& username);
  // Queues a typing indicator (not stored in history).
  Status send_typing(const std::string& username, bool started);
  // Sets the disappearing-message timer of a conversation (0: off) and tells the other side.
  Status set_disappearing_timer(const std::string& username, std::int64_t seconds);

  Result<std::vector<ChatSummary>> chats();
  Result<std::vector<MessageRecord>> history(const std::string& username, std::size_t limit);
  Result<std::size_t> outbox_size();

  // ---- Verification ----------------------------------------------------------------------------

  Result<SafetyNumber> safety_number(const std::string& username);
  // Marks the contact verified (clears an identity-change warning).
  Status mark_verified(const std::string& username);

  // Closes the connection (the store stays open).
  void disconnect();

  // ---- Staying connected
  // -------------------------------------------------------------------------

  Result<NetworkSettings> network_settings();
  // Validates (every endpoint "host:port", relay links complete) and saves; the next connection
  // uses them.
  Status set_network_settings(const NetworkSettings& settings);
  Result<NetworkReport> network_report();
  // The connection state for a status line: connecting, connected via …, offline (why).
  net::TransportStatus transport_status() const;

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  Status sync_once();
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::client
