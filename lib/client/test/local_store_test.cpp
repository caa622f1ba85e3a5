// SPDX-License-Identifier: AGPL-3.0-or-later
// The local store on real SQLCipher files: encryption at rest, keys, records, transactions.
#include "parley/client/local_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "parley/crypto/keys.h"
#include "parley/crypto/random.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using testing::file_bytes;
using testing::random_key;
using testing::TempHome;

Bytes id16(std::uint8_t fill) {
  return Bytes(16, fill);
}

AccountRecord make_account(const crypto::KeyPair& device, std::string username) {
  AccountRecord account;
  account.account_id = crypto::random_bytes(16);
  account.device_id = 1;
  account.identity_key = device.public_key.serialize();
  account.device_private_key = device.private_key.serialize().clone();
  account.device_public_key = device.public_key.serialize();
  account.registration_id = 4242;
  account.username = std::move(username);
  account.server = "127.0.0.1:4443";
  account.server_pin = "ab12";
  account.server_ca_file = "/etc/parley/ca.pem";
  account.next_prekey_id = 101;
  account.next_signed_prekey_id = 7;
  account.created_ms = 1'700'000'000'123;
  return account;
}

Contact make_contact(Bytes account_id, std::string username) {
  Contact contact;
  contact.account_id = std::move(account_id);
  contact.username = std::move(username);
  contact.identity_key = crypto::KeyPair::generate().public_key.serialize();
  return contact;
}

MessageRecord make_message(Bytes peer, MessageDirection direction, const std::string& cmid,
                           std::string body) {
  MessageRecord m;
  m.peer = std::move(peer);
  m.direction = direction;
  m.sender_device = 2;
  m.client_message_id = to_bytes(cmid);
  m.kind = MessageKind::kText;
  m.body = std::move(body);
  m.sent_ms = 1000;
  m.received_ms = direction == MessageDirection::kIncoming ? 1100 : 0;
  m.status =
      direction == MessageDirection::kIncoming ? MessageStatus::kSent : MessageStatus::kPending;
  return m;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    Result<std::unique_ptr<LocalStore>> opened = LocalStore::open(file_, key_);
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
  }

  TempHome home_;
  std::filesystem::path file_ = home_ / "local.db";
  SecretBytes key_ = random_key();
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, NothingReadableOnDisk) {
  const std::string body = "MARKERBODY the meeting is at noon";
  const std::string username = "markeruser_quartz";
  ASSERT_TRUE(store_->save_account(make_account(crypto::KeyPair::generate(), username)).ok());
  Contact contact = make_contact(id16(1), "markercontact_onyx");
  ASSERT_TRUE(store_->save_contact(contact).ok());
  MessageRecord m = make_message(id16(1), MessageDirection::kIncoming, "c1", body);
  ASSERT_TRUE(store_->insert_message(m).value_or(false));

  auto check = [&](const std::filesystem::path& f) {
    std::string bytes = file_bytes(f);
    EXPECT_EQ(bytes.find("MARKERBODY"), std::string::npos) << f;
    EXPECT_EQ(bytes.find(username), std::string::npos) << f;
    EXPECT_EQ(bytes.find("markercontact_onyx"), std::string::npos) << f;
    EXPECT_EQ(bytes.find("SQLite format 3"), std::string::npos) << f;
    EXPECT_EQ(bytes.find("CREATE TABLE"), std::string::npos) << f;
  };
  // While open, recent writes sit in the write-ahead log: it must be encrypted too.
  std::filesystem::path wal = file_;
  wal += "-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);
  check(file_);
  check(wal);
  store_.reset();
  ASSERT_GT(std::filesystem::file_size(file_), 0u);
  check(file_);
  check(wal);
  // Only the owner may read the files.
  EXPECT_EQ(std::filesystem::status(file_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  reopen();
  Result<std::optional<MessageRecord>> back =
      store_->message(id16(1), MessageDirection::kIncoming, to_bytes("c1"));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->body, body);
}

TEST_F(LocalStoreTest, WrongKeyIsRefused) {
  ASSERT_TRUE(store_->set_meta("x", 1).ok());
  store_.reset();
  Result<std::unique_ptr<LocalStore>> wrong = LocalStore::open(file_, random_key());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kWrongDatabaseKey);
  SecretBytes short_key = crypto::random_secret(16);
  EXPECT_EQ(LocalStore::open(file_, short_key).status().code(), ErrorCode::kInvalidArgument);
  // The right key still works afterwards: the failed attempts changed nothing.
  reopen();
  EXPECT_EQ(store_->meta("x").value_or(std::nullopt), std::optional<std::int64_t>(1));
}

TEST_F(LocalStoreTest, PlaintextDatabaseIsRefused) {
  std::filesystem::path plain = home_ / "plain.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(plain.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "CREATE TABLE t (a); INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  ASSERT_NE(file_bytes(plain).find("SQLite format 3"), std::string::npos);
  EXPECT_EQ(LocalStore::open(plain, key_).status().code(), ErrorCode::kWrongDatabaseKey);
}

TEST_F(LocalStoreTest, SchemaIsCurrent) {
  EXPECT_EQ(store_->schema_version().value_or(-1), LocalStore::kSchemaVersion);
}

TEST_F(LocalStoreTest, AccountAndMetaRoundTrip) {
  EXPECT_FALSE(store_->account().value().has_value());
  EXPECT_FALSE(store_->meta("last_processed_seq").value().has_value());
  crypto::KeyPair device = crypto::KeyPair::generate();
  AccountRecord account = make_account(device, "alice");
  ASSERT_TRUE(store_->save_account(account).ok());
  ASSERT_TRUE(store_->set_meta("last_processed_seq", 1234567890123).ok());
  ASSERT_TRUE(store_->set_meta("last_processed_seq", -5).ok());
  reopen();
  std::optional<AccountRecord> back = store_->account().value();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->account_id, account.account_id);
  EXPECT_EQ(back->device_id, 1u);
  EXPECT_EQ(back->identity_key, account.identity_key);
  EXPECT_TRUE(back->device_private_key == account.device_private_key);
  EXPECT_EQ(back->device_public_key, account.device_public_key);
  EXPECT_EQ(back->registration_id, 4242u);
  EXPECT_EQ(back->username, "alice");
  EXPECT_EQ(back->server, "127.0.0.1:4443");
  EXPECT_EQ(back->server_pin, "ab12");
  EXPECT_EQ(back->server_ca_file, "/etc/parley/ca.pem");
  EXPECT_EQ(back->next_prekey_id, 101u);
  EXPECT_EQ(back->next_signed_prekey_id, 7u);
  EXPECT_EQ(back->created_ms, 1'700'000'000'123);
  EXPECT_EQ(store_->meta("last_processed_seq").value(), std::optional<std::int64_t>(-5));

  // Saving again replaces the one row.
  account.username.clear();
  account.next_prekey_id = 201;
  ASSERT_TRUE(store_->save_account(account).ok());
  back = store_->account().value();
  EXPECT_EQ(back->username, "");
  EXPECT_EQ(back->next_prekey_id, 201u);
}

TEST_F(LocalStoreTest, Contacts) {
  Contact bob{id16(2), "bob", crypto::KeyPair::generate().public_key.serialize(),
              true,    false, to_bytes("signed list"),
              50};
  Contact carol{id16(3), "carol", crypto::KeyPair::generate().public_key.serialize(), false, true,
                Bytes(), 60};
  Contact anon = make_contact(id16(4), "");
  for (const Contact* c : {&carol, &anon, &bob}) ASSERT_TRUE(store_->save_contact(*c).ok());

  std::optional<Contact> got = store_->contact(id16(2)).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->username, "bob");
  EXPECT_EQ(got->identity_key, bob.identity_key);
  EXPECT_TRUE(got->verified);
  EXPECT_FALSE(got->identity_changed);
  EXPECT_EQ(got->signed_device_list, to_bytes("signed list"));
  EXPECT_EQ(got->updated_ms, 50);
  got = store_->contact_by_username("carol").value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->account_id, id16(3));
  EXPECT_TRUE(got->identity_changed);
  EXPECT_TRUE(got->signed_device_list.empty());
  EXPECT_FALSE(store_->contact_by_username("").value().has_value());
  EXPECT_FALSE(store_->contact_by_username("dave").value().has_value());
  EXPECT_FALSE(store_->contact(id16(9)).value().has_value());

  std::vector<Contact> all = store_->contacts().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].account_id, id16(4));  // "" sorts first
  EXPECT_EQ(all[1].username, "bob");
  EXPECT_EQ(all[2].username, "carol");

  // Insert or replace: a changed key clears verification (the caller's decision, stored as is).
  bob.identity_key = crypto::KeyPair::generate().public_key.serialize();
  bob.verified = false;
  bob.identity_changed = true;
  ASSERT_TRUE(store_->save_contact(bob).ok());
  got = store_->contact(id16(2)).value();
  EXPECT_EQ(got->identity_key, bob.identity_key);
  EXPECT_FALSE(got->verified);
  EXPECT_TRUE(got->identity_changed);
  EXPECT_EQ(store_->contacts().value().size(), 3u);
}

TEST_F(LocalStoreTest, Conversations) {
  ASSERT_TRUE(store_->save_conversation({id16(1), 0, 100, 2}).ok());
  ASSERT_TRUE(store_->save_conversation({id16(2), 3600, 300, 0}).ok());
  ASSERT_TRUE(store_->save_conversation({id16(3), 0, 200, 1}).ok());
  std::optional<Conversation> c = store_->conversation(id16(2)).value();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->disappearing_seconds, 3600);
  EXPECT_EQ(c->last_activity_ms, 300);
  EXPECT_EQ(c->unread, 0u);
  EXPECT_FALSE(store_->conversation(id16(9)).value().has_value());

  std::vector<Conversation> all = store_->conversations().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].peer, id16(2));
  EXPECT_EQ(all[1].peer, id16(3));
  EXPECT_EQ(all[2].peer, id16(1));

  ASSERT_TRUE(store_->save_conversation({id16(1), 60, 400, 5}).ok());
  all = store_->conversations().value();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].peer, id16(1));
  EXPECT_EQ(all[0].unread, 5u);
  EXPECT_EQ(all[0].disappearing_seconds, 60);
}

TEST_F(LocalStoreTest, MessagesAreUniqueAndRoundTrip) {
  MessageRecord m = make_message(id16(1), MessageDirection::kIncoming, "c1", "hello");
  m.kind = MessageKind::kSystem;
  m.expires_at_ms = 99999;
  ASSERT_TRUE(store_->insert_message(m).value_or(false));
  EXPECT_GT(m.id, 0);

  // The same (peer, direction, client id) again: not stored, id untouched.
  MessageRecord dup = make_message(id16(1), MessageDirection::kIncoming, "c1", "other text");
  Result<bool> inserted = store_->insert_message(dup);
  ASSERT_TRUE(inserted.ok()) << inserted.status().to_string();
  EXPECT_FALSE(*inserted);
  EXPECT_EQ(dup.id, 0);
  // Other direction or peer with the same client id are different messages.
  MessageRecord out = make_message(id16(1), MessageDirection::kOutgoing, "c1", "mine");
  EXPECT_TRUE(store_->insert_message(out).value_or(false));
  MessageRecord other = make_message(id16(2), MessageDirection::kIncoming, "c1", "theirs");
  EXPECT_TRUE(store_->insert_message(other).value_or(false));
  EXPECT_GT(out.id, m.id);

  std::optional<MessageRecord> back =
      store_->message(id16(1), MessageDirection::kIncoming, to_bytes("c1")).value();
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, m.id);
  EXPECT_EQ(back->peer, id16(1));
  EXPECT_EQ(back->direction, MessageDirection::kIncoming);
  EXPECT_EQ(back->sender_device, 2u);
  EXPECT_EQ(back->client_message_id, to_bytes("c1"));
  EXPECT_EQ(back->kind, MessageKind::kSystem);
  EXPECT_EQ(back->body, "hello");
  EXPECT_EQ(back->sent_ms, 1000);
  EXPECT_EQ(back->received_ms, 1100);
  EXPECT_EQ(back->status, MessageStatus::kSent);
  EXPECT_EQ(back->expires_at_ms, 99999);
  EXPECT_FALSE(
      store_->message(id16(1), MessageDirection::kIncoming, to_bytes("nope")).value().has_value());
}

TEST_F(LocalStoreTest, StatusOnlyMovesForward) {
  MessageRecord m = make_message(id16(1), MessageDirection::kOutgoing, "c1", "x");
  ASSERT_TRUE(store_->insert_message(m).value_or(false));
  auto advance = [&](MessageStatus s, std::int64_t at) {
    return store_->advance_status(id16(1), MessageDirection::kOutgoing, to_bytes("c1"), s, at);
  };
  auto status = [&] {
    return store_->message(id16(1), MessageDirection::kOutgoing, to_bytes("c1")).value()->status;
  };
  EXPECT_TRUE(advance(MessageStatus::kSent, 5000).value());
  // The server's acknowledgement time is recorded once.
  EXPECT_EQ(
      store_->message(id16(1), MessageDirection::kOutgoing, to_bytes("c1")).value()->received_ms,
      5000);
  EXPECT_FALSE(advance(MessageStatus::kSent, 6000).value());
  EXPECT_TRUE(advance(MessageStatus::kRead, 7000).value());
  EXPECT_FALSE(advance(MessageStatus::kDelivered, 8000).value());  // a late receipt
  EXPECT_EQ(status(), MessageStatus::kRead);
  // A message the server took cannot fail any more.
  EXPECT_FALSE(advance(MessageStatus::kFailed, 9000).value());
  EXPECT_EQ(status(), MessageStatus::kRead);
  EXPECT_EQ(
      store_->message(id16(1), MessageDirection::kOutgoing, to_bytes("c1")).value()->received_ms,
      5000);

  // kFailed from kPending is final.
  MessageRecord f = make_message(id16(1), MessageDirection::kOutgoing, "c2", "y");
  ASSERT_TRUE(store_->insert_message(f).value_or(false));
  EXPECT_TRUE(store_
                  ->advance_status(id16(1), MessageDirection::kOutgoing, to_bytes("c2"),
                                   MessageStatus::kFailed, 1)
                  .value());
  EXPECT_FALSE(store_
                   ->advance_status(id16(1), MessageDirection::kOutgoing, to_bytes("c2"),
                                    MessageStatus::kSent, 2)
                   .value());
  EXPECT_EQ(store_->message(id16(1), MessageDirection::kOutgoing, to_bytes("c2")).value()->status,
            MessageStatus::kFailed);

  EXPECT_EQ(store_
                ->advance_status(id16(1), MessageDirection::kIncoming, to_bytes("c1"),
                                 MessageStatus::kRead, 1)
                .status()
                .code(),
            ErrorCode::kNotFound);
}

TEST_F(LocalStoreTest, HistoryUnreadAndExpiry) {
  for (int i = 0; i < 6; ++i) {
    MessageDirection d = i % 3 == 2 ? MessageDirection::kOutgoing : MessageDirection::kIncoming;
    MessageRecord m =
        make_message(id16(1), d, "m" + std::to_string(i), "body " + std::to_string(i));
    ASSERT_TRUE(store_->insert_message(m).value_or(false));
  }
  MessageRecord elsewhere = make_message(id16(2), MessageDirection::kIncoming, "z", "elsewhere");
  ASSERT_TRUE(store_->insert_message(elsewhere).value_or(false));

  std::vector<MessageRecord> last = store_->history(id16(1), 4).value();
  ASSERT_EQ(last.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(last[i].body, "body " + std::to_string(i + 2));
  EXPECT_EQ(store_->history(id16(1), 100).value().size(), 6u);
  EXPECT_EQ(store_->history(id16(1), 0).value().size(), 0u);
  EXPECT_EQ(store_->history(id16(9), 10).value().size(), 0u);

  // Incoming m0 m1 m3 m4 are unread; reading m1 leaves three, oldest first.
  ASSERT_TRUE(store_
                  ->advance_status(id16(1), MessageDirection::kIncoming, to_bytes("m1"),
                                   MessageStatus::kRead, 1)
                  .value());
  std::vector<MessageRecord> unread = store_->unread(id16(1)).value();
  ASSERT_EQ(unread.size(), 3u);
  EXPECT_EQ(unread[0].body, "body 0");
  EXPECT_EQ(unread[1].body, "body 3");
  EXPECT_EQ(unread[2].body, "body 4");

  // A timer gives deadlines only to messages without one; 0 means no timer.
  ASSERT_TRUE(store_->set_expiry(id16(1), 0, 10'000).ok());
  EXPECT_EQ(store_->delete_expired_messages(std::numeric_limits<std::int64_t>::max()).value(), 0u);
  ASSERT_TRUE(store_->set_expiry(id16(1), 10, 10'000).ok());  // deadline 20 000
  EXPECT_EQ(store_->history(id16(1), 1).value()[0].expires_at_ms, 20'000);
  MessageRecord late = make_message(id16(1), MessageDirection::kIncoming, "late", "late");
  late.expires_at_ms = 50'000;
  ASSERT_TRUE(store_->insert_message(late).value_or(false));
  ASSERT_TRUE(store_->set_expiry(id16(1), 1, 0).ok());  // must not shorten `late`
  EXPECT_EQ(store_->delete_expired_messages(19'999).value(), 0u);
  EXPECT_EQ(store_->delete_expired_messages(20'000).value(), 6u);
  std::vector<MessageRecord> left = store_->history(id16(1), 10).value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].body, "late");
  EXPECT_EQ(store_->history(id16(2), 10).value().size(), 1u);  // other conversation untouched
  EXPECT_EQ(store_->delete_expired_messages(50'000).value(), 1u);
  EXPECT_EQ(store_->set_expiry(id16(1), std::numeric_limits<std::int64_t>::max(), 0).code(),
            ErrorCode::kOutOfRange);
}

TEST_F(LocalStoreTest, Outbox) {
  OutboxEntry a{0, id16(1), to_bytes("c1"), SecretBytes(as_bytes("plain content")), Bytes(), 0,
                0, 10};
  OutboxEntry b{0,   id16(2), to_bytes("c1"), SecretBytes(as_bytes("second")), to_bytes("req"), 1,
                500, 20};
  ASSERT_TRUE(store_->add_outbox(a).ok());
  ASSERT_TRUE(store_->add_outbox(b).ok());
  EXPECT_GT(b.id, a.id);
  OutboxEntry dup{0, id16(1), to_bytes("c1"), SecretBytes(as_bytes("again")), Bytes(), 0, 0, 30};
  EXPECT_EQ(store_->add_outbox(dup).code(), ErrorCode::kAlreadyExists);

  std::vector<OutboxEntry> all = store_->outbox().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, a.id);
  EXPECT_EQ(all[0].recipient, id16(1));
  EXPECT_EQ(all[0].client_message_id, to_bytes("c1"));
  EXPECT_TRUE(all[0].content == a.content);
  EXPECT_TRUE(all[0].request.empty());
  EXPECT_EQ(all[0].created_ms, 10);
  EXPECT_EQ(all[1].request, to_bytes("req"));
  EXPECT_EQ(all[1].attempts, 1u);
  EXPECT_EQ(all[1].next_attempt_ms, 500);

  a.request = to_bytes("encrypted request");
  a.attempts = 3;
  a.next_attempt_ms = 9000;
  a.created_ms = 77;  // not updatable
  ASSERT_TRUE(store_->update_outbox(a).ok());
  all = store_->outbox().value();
  EXPECT_EQ(all[0].request, to_bytes("encrypted request"));
  EXPECT_EQ(all[0].attempts, 3u);
  EXPECT_EQ(all[0].next_attempt_ms, 9000);
  EXPECT_EQ(all[0].created_ms, 10);

  ASSERT_TRUE(store_->remove_outbox(a.id).ok());
  EXPECT_TRUE(store_->remove_outbox(a.id).ok());
  EXPECT_EQ(store_->update_outbox(a).code(), ErrorCode::kNotFound);
  all = store_->outbox().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, b.id);
}

TEST_F(LocalStoreTest, TransactionRollsBackWhenNotCommitted) {
  {
    Result<LocalStore::Transaction> t = store_->begin();
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(store_->set_meta("a", 1).ok());
  }
  EXPECT_FALSE(store_->meta("a").value().has_value());
  {
    Result<LocalStore::Transaction> t = store_->begin();
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(store_->set_meta("a", 2).ok());
    ASSERT_TRUE(t->commit().ok());
    EXPECT_EQ(t->commit().code(), ErrorCode::kFailedPrecondition);
  }
  EXPECT_EQ(store_->meta("a").value(), std::optional<std::int64_t>(2));
  reopen();
  EXPECT_EQ(store_->meta("a").value(), std::optional<std::int64_t>(2));
}

TEST_F(LocalStoreTest, NestedTransactions) {
  {
    LocalStore::Transaction outer = std::move(store_->begin()).value();
    ASSERT_TRUE(store_->set_meta("outer", 1).ok());
    {
      LocalStore::Transaction inner = std::move(store_->begin()).value();
      ASSERT_TRUE(store_->set_meta("inner_rolled_back", 1).ok());
    }
    {
      LocalStore::Transaction inner = std::move(store_->begin()).value();
      ASSERT_TRUE(store_->set_meta("inner_committed", 1).ok());
      ASSERT_TRUE(inner.commit().ok());
    }
    // delete_sessions_of() opens its own transaction inside ours.
    ASSERT_TRUE(store_->delete_sessions_of("00").ok());
    ASSERT_TRUE(outer.commit().ok());
  }
  EXPECT_TRUE(store_->meta("outer").value().has_value());
  EXPECT_TRUE(store_->meta("inner_committed").value().has_value());
  EXPECT_FALSE(store_->meta("inner_rolled_back").value().has_value());

  // An inner commit is undone when the outer transaction rolls back.
  {
    LocalStore::Transaction outer = std::move(store_->begin()).value();
    LocalStore::Transaction inner = std::move(store_->begin()).value();
    ASSERT_TRUE(store_->set_meta("lost", 1).ok());
    ASSERT_TRUE(inner.commit().ok());
  }
  EXPECT_FALSE(store_->meta("lost").value().has_value());
  // And the store is usable outside any transaction again.
  ASSERT_TRUE(store_->set_meta("after", 1).ok());
  reopen();
  EXPECT_TRUE(store_->meta("after").value().has_value());
}

TEST_F(LocalStoreTest, TwoConnectionsShareTheFile) {
  Result<std::unique_ptr<LocalStore>> second = LocalStore::open(file_, key_);
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  ASSERT_TRUE(store_->set_meta("seen", 7).ok());
  EXPECT_EQ((*second)->meta("seen").value(), std::optional<std::int64_t>(7));
  MessageRecord m = make_message(id16(1), MessageDirection::kIncoming, "c1", "once");
  MessageRecord again = make_message(id16(1), MessageDirection::kIncoming, "c1", "once");
  EXPECT_TRUE(store_->insert_message(m).value_or(false));
  EXPECT_FALSE((*second)->insert_message(again).value_or(true));
}

}  // namespace
}  // namespace parley::client
