// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The client's local database: one SQLCipher file per home holding the account, the Signal
// protocol state (prekeys, sessions, device identities, sender keys), contacts, conversations,
// messages and the outbox. Everything at rest is encrypted by SQLCipher (AES-256, key from
// database_key.h); `PRAGMA cipher_version` is checked at open so a build that accidentally links
// plain SQLite fails loudly instead of writing plaintext.
//
// The schema is versioned (PRAGMA user_version) and migrated forward step by step at open; see
// migrations in src/local_store_schema.cpp. One LocalStore is used by one thread at a time;
// several processes may open the same file (SQLite locking, 10 s busy timeout).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/crypto/stores.h"
#include "parley/util/bytes.h"
#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::client {

// This device's account, one row.
struct AccountRecord {
  Bytes account_id;                // 16 bytes
  std::uint32_t device_id = 0;     // 1 = primary
  Bytes identity_key;              // 33 bytes: the account's identity (= the primary's device key)
  SecretBytes device_private_key;  // 32 bytes: this device's key (the primary's is the identity)
  Bytes device_public_key;         // 33 bytes
  std::uint32_t registration_id = 0;
  std::string username;        // normalized; empty when none
  std::string server;          // "host:port"
  std::string server_pin;      // pinned certificate SHA-256 (hex), may be empty
  std::string server_ca_file;  // PEM file, may be empty
  std::uint32_t next_prekey_id = 1;
  std::uint32_t next_signed_prekey_id = 1;
  std::int64_t created_ms = 0;

  AccountRecord clone() const {
    return {account_id,        device_id,       identity_key,   device_private_key.clone(),
            device_public_key, registration_id, username,       server,
            server_pin,        server_ca_file,  next_prekey_id, next_signed_prekey_id,
            created_ms};
  }
};

// Someone we talk to, by account. The identity key is trusted on first use and pinned; when a
// later lookup shows another key for the same username or account, identity_changed is set (the
// UI warns). A contact that was verified stays marked verified but cannot be written to until
// it is verified again (mark_verified clears identity_changed).
struct Contact {
  Bytes account_id;      // 16 bytes, primary key
  std::string username;  // normalized; may be empty
  Bytes identity_key;    // 33 bytes
  bool verified = false;
  bool identity_changed = false;
  Bytes signed_device_list;  // the last one that verified, as the server served it
  std::int64_t updated_ms = 0;
};

struct Conversation {
  Bytes peer;  // the other account's id, or the group id when is_group (16 bytes either way)
  std::int64_t disappearing_seconds = 0;  // 0: messages stay
  std::int64_t last_activity_ms = 0;
  std::uint32_t unread = 0;
  bool is_group = false;
};

enum class MessageDirection : std::uint8_t { kIncoming = 0, kOutgoing = 1 };
enum class MessageKind : std::uint8_t { kText = 0, kSystem = 1 };
// Only ever moves forward (kPending < kSent < kDelivered < kRead); kFailed is terminal.
enum class MessageStatus : std::uint8_t {
  kPending = 0,    // in the outbox
  kSent = 1,       // the server acknowledged it (outgoing) / received (incoming)
  kDelivered = 2,  // a delivery receipt came back
  kRead = 3,       // a read receipt came back / we read it
  kFailed = 4,
};

struct MessageRecord {
  std::int64_t id = 0;  // local row id, set by insert_message
  Bytes peer;           // the conversation: the other account
  MessageDirection direction = MessageDirection::kIncoming;
  std::uint32_t sender_device = 0;
  Bytes client_message_id;  // the sender's id: (peer, direction, client_message_id) is unique
  MessageKind kind = MessageKind::kText;
  std::string body;
  std::int64_t sent_ms = 0;      // the sender's clock
  std::int64_t received_ms = 0;  // ours (incoming) / the server's ack (outgoing), 0 if not yet
  MessageStatus status = MessageStatus::kPending;
  std::int64_t expires_at_ms = 0;  // 0: never
  // Group conversations (peer = the group id): the account that wrote the message (ours for
  // outgoing). Empty in direct conversations, where the peer is the author.
  Bytes sender;
};

// What an outbox row holds (column outbox.kind).
enum class OutboxKind : std::uint8_t {
  kDirect = 0,     // pairwise: a SendMessageRequest to every device of `recipient` (an account)
  kGroup = 1,      // a group message: `recipient` is the group id, `request` a serialized
                   // SendGroupMessageRequest (one Sender Key ciphertext for every member device)
  kSenderKey = 2,  // pairwise like kDirect, carrying our SenderKeyDistribution for a group
};

// A message waiting to be stored by the server for one recipient account. `content` is the
// end-to-end plaintext (client/content.proto, unpadded); `request` is the encrypted, serialized
// wire SendMessageRequest for the device set it was made for (empty until encrypted), so a retry
// resends the same bytes and the server's dedupe by client_message_id makes it exactly-once.
struct OutboxEntry {
  std::int64_t id = 0;  // local row id, set by add_outbox; the outbox is processed in id order
  Bytes recipient;      // account id (our own for copies to our other devices)
  Bytes client_message_id;
  SecretBytes content;
  Bytes request;
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::int64_t created_ms = 0;
  OutboxKind kind = OutboxKind::kDirect;
};

// ---- Groups (docs/client.md "Groups"; stored by local_store_groups.cpp) ----

// A group as this device knows it: the last admin-signed state it accepted.
struct GroupRecord {
  Bytes group_id;  // 16 bytes
  std::uint64_t version = 0;
  Bytes state;           // the accepted content::SignedGroupState, serialized
  Bytes previous_state;  // the SignedGroupState it replaced (empty for the first); a concurrent
                         // state of the same version is judged against it
  std::string name;      // from the state, for lookups by name
  bool is_member = false;
  // Our last own change, kept so that it can be re-applied when a concurrent change of the same
  // version wins: the GroupState it was made on and the GroupState we signed (both serialized;
  // empty when none).
  Bytes authored_parent;
  Bytes authored;
  std::int64_t updated_ms = 0;
};

// Our own sending key for a group: the Signal sender-key record is stored under
// (hex(distribution_id), our address); a rotation makes a new distribution id.
struct OwnSenderKey {
  Bytes group_id;
  Bytes distribution_id;  // 16 random bytes
  std::int64_t created_ms = 0;
  std::uint32_t messages = 0;  // group messages encrypted with it
};

// A device that holds our current key for a group (its SenderKeyDistribution was acknowledged),
// with the device key it had then: the same id with another key is another device.
struct KeyRecipient {
  Bytes account_id;
  std::uint32_t device_id = 0;
  Bytes device_key;  // 33 bytes
};

// Another device's sending key for a group: the Signal record is stored under
// (hex(distribution_id), (hex(sender_account), sender_device)).
struct ReceivedSenderKey {
  Bytes sender_account;
  std::uint32_t sender_device = 0;
  Bytes distribution_id;
  Bytes group_id;
  std::int64_t received_ms = 0;
};

// ---- Attachments (docs/client.md "Attachments"; stored by local_store_attachments.cpp) ----

enum class AttachmentState : std::uint8_t { kPending = 0, kDone = 1, kFailed = 2 };

// A file attached to a message (sent or received), keyed like the message: (peer, direction,
// client_message_id). `pointer` is the serialized content::AttachmentPointer with the file's key.
struct AttachmentRecord {
  std::int64_t id = 0;  // local row id, set by add_attachment; downloads run in id order
  Bytes peer;           // the conversation: the other account, or the group id
  MessageDirection direction = MessageDirection::kIncoming;
  Bytes client_message_id;
  SecretBytes pointer;
  std::string file_name;  // already sanitized for received files
  std::string content_type;
  std::uint64_t size = 0;  // plaintext bytes
  std::string local_path;  // sent: the source as given; received: where it was saved
  AttachmentState state = AttachmentState::kPending;
  std::string error;      // kFailed: why, in words
  bool download = false;  // to be fetched (received, or sent from our other device)
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::int64_t created_ms = 0;
};

// An encrypted file waiting to be uploaded; once complete, `content` (a Text whose attachment
// pointer still lacks the server's id) is queued to `peer`.
struct AttachmentUpload {
  std::int64_t id = 0;  // local row id, set by add_upload; uploads run in id order
  Bytes peer;           // recipient account, or the group id when is_group
  bool is_group = false;
  Bytes client_message_id;
  SecretBytes content;  // serialized content::Content
  std::string ciphertext_file;
  std::uint64_t ciphertext_size = 0;
  Bytes attachment_id;  // the server's id, empty until created (saved before the first chunk)
  std::uint32_t max_chunk_bytes = 0;
  std::int64_t expires_ms = 0;
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::int64_t created_ms = 0;
};

class LocalStore {
 public:
  static constexpr int kSchemaVersion = 5;

  // Opens or creates `file`, checks the key (kWrongDatabaseKey), checks that SQLCipher is in
  // use, and migrates to `target_version` (tests use older versions to build old databases).
  // A database newer than this build: kUnsupportedVersion.
  static Result<std::unique_ptr<LocalStore>> open(const std::filesystem::path& file,
                                                  const SecretBytes& key,
                                                  int target_version = kSchemaVersion);
  virtual ~LocalStore() = default;

  virtual Result<int> schema_version() = 0;

  // Groups writes atomically: BEGIN IMMEDIATE ... COMMIT. Calls may nest; only the outermost
  // commits. A Transaction destroyed without commit() rolls back.
  class Transaction {
   public:
    explicit Transaction(LocalStore* store) : store_(store) {}
    Transaction(Transaction&& other) noexcept : store_(std::exchange(other.store_, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    Status commit();

   private:
    LocalStore* store_;
  };
  Result<Transaction> begin();

  // Account (one row).
  virtual Result<std::optional<AccountRecord>> account() = 0;
  virtual Status save_account(const AccountRecord& account) = 0;

  // Small named integers (e.g. "last_processed_seq").
  virtual Result<std::optional<std::int64_t>> meta(std::string_view name) = 0;
  virtual Status set_meta(std::string_view name, std::int64_t value) = 0;
  // Named text settings (schema 5): network settings and transport memory. Setting "" removes.
  virtual Result<std::optional<std::string>> setting(std::string_view name) = 0;
  virtual Status set_setting(std::string_view name, std::string_view value) = 0;

  // The Signal protocol stores over this database. Addresses are (account id as 32 lowercase hex
  // digits, device id). identities(): identity_key_pair() is this device's key pair and
  // local_registration_id() its registration id (from the account row; kNotInitialized before
  // there is one); is_trusted_identity() is true when no key is saved for the address or the
  // saved one is equal — trust decisions (device lists, warnings) are made by the client core.
  virtual crypto::SessionStore& sessions() = 0;
  virtual crypto::PreKeyStore& pre_keys() = 0;
  virtual crypto::SignedPreKeyStore& signed_pre_keys() = 0;
  virtual crypto::IdentityKeyStore& identities() = 0;
  virtual crypto::SenderKeyStore& sender_keys() = 0;
  crypto::ProtocolStores protocol_stores() {
    return {sessions(), pre_keys(), signed_pre_keys(), identities()};
  }
  virtual Result<std::uint32_t> pre_key_count() = 0;
  // Forgets every session and saved identity of `account_hex` (all devices).
  virtual Status delete_sessions_of(std::string_view account_hex) = 0;

  // Contacts.
  virtual Result<std::optional<Contact>> contact(ByteView account_id) = 0;
  virtual Result<std::optional<Contact>> contact_by_username(std::string_view username) = 0;
  virtual Status save_contact(const Contact& contact) = 0;  // insert or replace
  virtual Result<std::vector<Contact>> contacts() = 0;      // by username

  // Conversations.
  virtual Result<std::optional<Conversation>> conversation(ByteView peer) = 0;
  virtual Status save_conversation(const Conversation& conversation) = 0;  // insert or replace
  virtual Result<std::vector<Conversation>> conversations() = 0;           // newest activity first

  // Messages. insert_message() returns false (and writes nothing) when (peer, direction,
  // client_message_id) already exists; on true it sets message.id.
  virtual Result<bool> insert_message(MessageRecord& message) = 0;
  virtual Result<std::optional<MessageRecord>> message(ByteView peer, MessageDirection direction,
                                                       ByteView client_message_id) = 0;
  // Moves the status forward only (a late kDelivered never undoes kRead); kFailed is accepted
  // only from kPending (a message the server took cannot fail) and is final. The first change of
  // a message whose received_ms is 0 sets it to `at_ms` (outgoing: the server's ack). Returns
  // whether it changed; kNotFound when there is no such message.
  virtual Result<bool> advance_status(ByteView peer, MessageDirection direction,
                                      ByteView client_message_id, MessageStatus status,
                                      std::int64_t at_ms) = 0;
  // The newest `limit` messages of a conversation, oldest first (in local arrival order, not by
  // the senders' clocks).
  virtual Result<std::vector<MessageRecord>> history(ByteView peer, std::size_t limit) = 0;
  // Incoming messages of `peer` not yet kRead, oldest first.
  virtual Result<std::vector<MessageRecord>> unread(ByteView peer) = 0;
  // Deletes messages whose expires_at_ms is in (0, now_ms]; returns how many.
  virtual Result<std::size_t> delete_expired_messages(std::int64_t now_ms) = 0;
  // Sets expires_at_ms = from_ms + seconds*1000 on this conversation's messages that have none.
  virtual Status set_expiry(ByteView peer, std::int64_t seconds, std::int64_t from_ms) = 0;

  // Outbox. add_outbox() sets entry.id; kAlreadyExists for a duplicate (recipient, id).
  virtual Status add_outbox(OutboxEntry& entry) = 0;
  virtual Result<std::vector<OutboxEntry>> outbox() = 0;       // id order
  virtual Status update_outbox(const OutboxEntry& entry) = 0;  // request, attempts, next attempt
  virtual Status remove_outbox(std::int64_t id) = 0;

  // ---- Groups (local_store_groups.cpp) ----
  virtual Result<std::optional<GroupRecord>> group(ByteView group_id) = 0;
  virtual Result<std::vector<GroupRecord>> groups() = 0;    // by name, then id
  virtual Status save_group(const GroupRecord& group) = 0;  // insert or replace
  virtual Result<std::optional<OwnSenderKey>> own_sender_key(ByteView group_id) = 0;
  // Insert or replace. A new distribution id forgets who had the old key (key recipients).
  virtual Status save_own_sender_key(const OwnSenderKey& key) = 0;
  // Forgets our key and its recipients (the next group message makes a new one).
  virtual Status delete_own_sender_key(ByteView group_id) = 0;
  virtual Result<std::vector<KeyRecipient>> key_recipients(ByteView group_id) = 0;  // by account
  virtual Status add_key_recipient(ByteView group_id, const KeyRecipient& recipient) = 0;
  virtual Status save_received_sender_key(const ReceivedSenderKey& key) = 0;  // insert or replace
  virtual Result<std::optional<ReceivedSenderKey>> received_sender_key(
      ByteView sender_account, std::uint32_t sender_device, ByteView distribution_id) = 0;
  virtual Result<std::vector<ReceivedSenderKey>> received_sender_keys(ByteView group_id) = 0;
  // Deletes the mapping and the Signal sender-key record it names.
  virtual Status delete_received_sender_key(const ReceivedSenderKey& key) = 0;
  // Deletes a Signal sender-key record (e.g. our own after a rotation).
  virtual Status delete_sender_key_record(const crypto::SenderKeyName& name) = 0;

  // ---- Attachments (local_store_attachments.cpp) ----
  // add_attachment() sets record.id; kAlreadyExists when the message already has one.
  virtual Status add_attachment(AttachmentRecord& record) = 0;
  virtual Result<std::optional<AttachmentRecord>> attachment(ByteView peer,
                                                             MessageDirection direction,
                                                             ByteView client_message_id) = 0;
  // Updates local_path, state, error, attempts and next_attempt_ms of the row `record.id`.
  virtual Status update_attachment(const AttachmentRecord& record) = 0;
  virtual Result<std::vector<AttachmentRecord>> pending_downloads() = 0;  // id order
  virtual Status add_upload(AttachmentUpload& upload) = 0;                // sets upload.id
  virtual Result<std::vector<AttachmentUpload>> uploads() = 0;            // id order
  // Updates content, attachment_id, max_chunk_bytes, expires_ms, attempts, next_attempt_ms.
  virtual Status update_upload(const AttachmentUpload& upload) = 0;
  virtual Status remove_upload(std::int64_t id) = 0;

 protected:
  LocalStore() = default;
  virtual Status begin_transaction() = 0;
  virtual Status commit_transaction() = 0;
  virtual void rollback_transaction() = 0;
};

}  // namespace parley::client
