// SPDX-License-Identifier: AGPL-3.0-or-later
// Databases made by older versions open and migrate forward; newer ones are refused.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "parley/client/local_store.h"
#include "parley/crypto/keys.h"
#include "parley/util/encoding.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using testing::random_key;
using testing::TempHome;

// Raw SQL on the encrypted file, as an older Parley would have written it.
class RawDatabase {
 public:
  RawDatabase(const std::filesystem::path& file, const SecretBytes& key) {
    EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK);
    exec("PRAGMA key = \"x'" + hex_encode(key.view()) + "'\"");
  }
  ~RawDatabase() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "") << " in " << sql;
    sqlite3_free(error);
  }
  std::int64_t query_int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::int64_t value = -1;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }
  // pragma_table_info() as a table needs SQLite 3.16; SQLCipher 3.4.1 is 3.15.2.
  bool has_column(const std::string& table, const std::string& column) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "PRAGMA table_info(" + table + ")";
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    bool found = false;
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* name = sqlite3_column_text(stmt, 1);
      if (name != nullptr && column == reinterpret_cast<const char*>(name)) found = true;
    }
    sqlite3_finalize(stmt);
    return found;
  }

 private:
  sqlite3* db_ = nullptr;
};

class MigrationTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<LocalStore>> open(int version = LocalStore::kSchemaVersion) {
    return LocalStore::open(file_, key_, version);
  }

  TempHome home_;
  std::filesystem::path file_ = home_ / "local.db";
  SecretBytes key_ = random_key();
};

TEST_F(MigrationTest, Version1MigratesToCurrent) {
  Contact bob;
  bob.account_id = Bytes(16, 2);
  bob.username = "bob";
  bob.identity_key = crypto::KeyPair::generate().public_key.serialize();
  bob.verified = true;
  {
    Result<std::unique_ptr<LocalStore>> v1 = open(1);
    ASSERT_TRUE(v1.ok()) << v1.status().to_string();
    EXPECT_EQ((*v1)->schema_version().value_or(-1), 1);
    // Tables unchanged since version 1 work through the API...
    ASSERT_TRUE((*v1)->save_contact(bob).ok());
    ASSERT_TRUE((*v1)->set_meta("last_processed_seq", 41).ok());
  }
  {
    // ...the ones version 2 changes get rows the way version 1 wrote them.
    RawDatabase raw(file_, key_);
    EXPECT_FALSE(raw.has_column("messages", "expires_at_ms"));
    EXPECT_FALSE(raw.has_column("conversations", "disappearing_seconds"));
    raw.exec(
        "INSERT INTO conversations (peer, last_activity_ms, unread) "
        "VALUES (x'02020202020202020202020202020202', 500, 1)");
    raw.exec(
        "INSERT INTO messages (peer, direction, sender_device, client_message_id, kind, body, "
        "sent_ms, received_ms, status) VALUES (x'02020202020202020202020202020202', 0, 1, "
        "x'c1', 0, 'written by version 1', 400, 450, 1)");
  }

  Result<std::unique_ptr<LocalStore>> current = open();
  ASSERT_TRUE(current.ok()) << current.status().to_string();
  LocalStore& store = **current;
  EXPECT_EQ(store.schema_version().value_or(-1), LocalStore::kSchemaVersion);
  // Old rows are intact, with the new columns at their defaults.
  std::optional<Contact> contact = store.contact(bob.account_id).value();
  ASSERT_TRUE(contact.has_value());
  EXPECT_EQ(contact->identity_key, bob.identity_key);
  EXPECT_TRUE(contact->verified);
  EXPECT_EQ(store.meta("last_processed_seq").value(), std::optional<std::int64_t>(41));
  std::optional<Conversation> conversation = store.conversation(Bytes(16, 2)).value();
  ASSERT_TRUE(conversation.has_value());
  EXPECT_EQ(conversation->last_activity_ms, 500);
  EXPECT_EQ(conversation->unread, 1u);
  EXPECT_EQ(conversation->disappearing_seconds, 0);
  EXPECT_FALSE(conversation->is_group);  // version 3
  std::vector<MessageRecord> history = store.history(Bytes(16, 2), 10).value();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].body, "written by version 1");
  EXPECT_EQ(history[0].received_ms, 450);
  EXPECT_EQ(history[0].status, MessageStatus::kSent);
  EXPECT_EQ(history[0].expires_at_ms, 0);
  EXPECT_TRUE(history[0].sender.empty());  // version 3: only group messages name their author

  // The new columns work.
  conversation->disappearing_seconds = 30;
  ASSERT_TRUE(store.save_conversation(*conversation).ok());
  EXPECT_EQ(store.conversation(Bytes(16, 2)).value()->disappearing_seconds, 30);
  ASSERT_TRUE(store.set_expiry(Bytes(16, 2), 30, 1000).ok());
  EXPECT_EQ(store.history(Bytes(16, 2), 10).value()[0].expires_at_ms, 31'000);
  EXPECT_EQ(store.delete_expired_messages(31'000).value(), 1u);

  // Reopening a current database changes nothing.
  current->reset();
  Result<std::unique_ptr<LocalStore>> again = open();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->schema_version().value_or(-1), LocalStore::kSchemaVersion);
  EXPECT_TRUE((*again)->contact(bob.account_id).value().has_value());
}

TEST_F(MigrationTest, NewerDatabaseIsRefused) {
  { ASSERT_TRUE(open().ok()); }
  {
    RawDatabase raw(file_, key_);
    raw.exec("PRAGMA user_version = " + std::to_string(LocalStore::kSchemaVersion + 1));
  }
  Result<std::unique_ptr<LocalStore>> newer = open();
  EXPECT_EQ(newer.status().code(), ErrorCode::kUnsupportedVersion);
  EXPECT_NE(newer.status().message().find("newer Parley"), std::string::npos)
      << newer.status().message();
}

TEST_F(MigrationTest, TargetVersionMustBeKnown) {
  EXPECT_EQ(open(0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(open(LocalStore::kSchemaVersion + 1).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(MigrationTest, EachStepIsAtomic) {
  { ASSERT_TRUE(open(1).ok()); }
  {
    // Version 2 adds messages.expires_at_ms; a column of that name already there makes the step
    // fail half-way, after conversations got its new column.
    RawDatabase raw(file_, key_);
    raw.exec("ALTER TABLE messages ADD COLUMN expires_at_ms INTEGER");
  }
  Result<std::unique_ptr<LocalStore>> failed = open();
  EXPECT_FALSE(failed.ok());
  RawDatabase raw(file_, key_);
  EXPECT_EQ(raw.query_int("PRAGMA user_version"), 1);
  EXPECT_FALSE(raw.has_column("conversations", "disappearing_seconds"));
}

}  // namespace
}  // namespace parley::client
