// SPDX-License-Identifier: AGPL-3.0-or-later
// Where the local database key comes from: a key file or a passphrase (Argon2id).
#include "parley/client/database_key.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <fstream>

#include "parley/client/local_store.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using testing::file_bytes;
using testing::TempHome;

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST(DatabaseKey, KeyFileIsCreatedPrivateAndReused) {
  TempHome home;
  EXPECT_EQ(database_key_source(home.path()), std::nullopt);
  EXPECT_EQ(load_database_key(home.path(), std::nullopt, false).status().code(),
            ErrorCode::kNotInitialized);

  Result<DatabaseKey> created = load_database_key(home.path(), std::nullopt, true);
  ASSERT_TRUE(created.ok()) << created.status().to_string();
  EXPECT_EQ(created->source, KeySource::kKeyFile);
  EXPECT_EQ(created->key.size(), 32u);
  EXPECT_EQ(mode_of(home / "db.key"), 0600u);
  EXPECT_EQ(file_bytes(home / "db.key"), std::string(as_string_view(created->key.view())));
  EXPECT_EQ(database_key_source(home.path()), KeySource::kKeyFile);
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(home.path()),
                          std::filesystem::directory_iterator()),
            1);

  Result<DatabaseKey> loaded = load_database_key(home.path(), std::nullopt, true);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->key == created->key);

  // The key opens a database made with it.
  ASSERT_TRUE(LocalStore::open(home / "local.db", created->key).ok());
  EXPECT_TRUE(LocalStore::open(home / "local.db", loaded->key).ok());
}

TEST(DatabaseKey, KeyFileReadableByOthersIsRefused) {
  TempHome home;
  ASSERT_TRUE(load_database_key(home.path(), std::nullopt, true).ok());
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(::chmod((home / "db.key").c_str(), mode), 0);
    Result<DatabaseKey> refused = load_database_key(home.path(), std::nullopt, false);
    EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied) << std::oct << mode;
    EXPECT_NE(refused.status().message().find("chmod 600"), std::string::npos);
    EXPECT_NE(refused.status().message().find("db.key"), std::string::npos);
  }
  ASSERT_EQ(::chmod((home / "db.key").c_str(), 0400), 0);
  EXPECT_TRUE(load_database_key(home.path(), std::nullopt, false).ok());
}

TEST(DatabaseKey, DamagedKeyFileIsRefused) {
  TempHome home;
  write_file(home / "db.key", "short");
  ASSERT_EQ(::chmod((home / "db.key").c_str(), 0600), 0);
  EXPECT_EQ(load_database_key(home.path(), std::nullopt, false).status().code(),
            ErrorCode::kStorageCorrupt);
}

TEST(DatabaseKey, PassphraseDerivationAndMismatches) {
  TempHome home;
  Result<DatabaseKey> created = load_database_key(home.path(), std::string("correct horse"), true);
  ASSERT_TRUE(created.ok()) << created.status().to_string();
  EXPECT_EQ(created->source, KeySource::kPassphrase);
  EXPECT_EQ(created->key.size(), 32u);
  EXPECT_EQ(database_key_source(home.path()), KeySource::kPassphrase);
  EXPECT_FALSE(std::filesystem::exists(home / "db.key"));
  // The salt file holds no secret, but the key itself must not be in it.
  EXPECT_EQ(file_bytes(home / "db.salt").find(as_string_view(created->key.view())),
            std::string::npos);

  // Same passphrase and salt: same key. Another passphrase: another key.
  Result<DatabaseKey> again = load_database_key(home.path(), std::string("correct horse"), false);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->key == created->key);
  Result<DatabaseKey> other = load_database_key(home.path(), std::string("wrong horse"), false);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->key == created->key);

  // A wrong passphrase shows when the database is opened.
  ASSERT_TRUE(LocalStore::open(home / "local.db", created->key).ok());
  EXPECT_EQ(LocalStore::open(home / "local.db", other->key).status().code(),
            ErrorCode::kWrongDatabaseKey);

  // This home needs a passphrase.
  Result<DatabaseKey> without = load_database_key(home.path(), std::nullopt, true);
  EXPECT_EQ(without.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(without.status().message().find("passphrase"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(home / "db.key"));
  EXPECT_EQ(load_database_key(home.path(), std::string(), false).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST(DatabaseKey, KeyFileHomeRefusesPassphrase) {
  TempHome home;
  ASSERT_TRUE(load_database_key(home.path(), std::nullopt, true).ok());
  Result<DatabaseKey> with = load_database_key(home.path(), std::string("secret"), true);
  EXPECT_EQ(with.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(with.status().message().find("key file"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(home / "db.salt"));
}

TEST(DatabaseKey, SaltFileLimitsAreHonoured) {
  // A home made with other limits (older or newer defaults) keeps deriving with its own.
  ASSERT_GE(sodium_init(), 0);
  TempHome home;
  std::uint8_t salt[crypto_pwhash_SALTBYTES];
  for (std::size_t i = 0; i < sizeof salt; ++i) salt[i] = static_cast<std::uint8_t>(i * 7);
  write_file(home / "db.salt",
             "parley-db-salt 1\nalg argon2id13\nsalt 00070e151c232a31383f464d545b6269\n"
             "opslimit " +
                 std::to_string(crypto_pwhash_OPSLIMIT_MIN) + "\nmemlimit " +
                 std::to_string(crypto_pwhash_MEMLIMIT_MIN) + "\n");
  Result<DatabaseKey> loaded = load_database_key(home.path(), std::string("pass"), false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();

  std::uint8_t expected[32];
  ASSERT_EQ(crypto_pwhash(expected, sizeof expected, "pass", 4, salt, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
            0);
  EXPECT_TRUE(loaded->key.equals(ByteView(expected, sizeof expected)));

  // Damaged or hostile salt files are refused, not trusted.
  write_file(home / "db.salt",
             "parley-db-salt 1\nalg argon2id13\nsalt 00070e151c232a31383f464d545b6269\n"
             "opslimit 3\nmemlimit 999999999999999\n");
  EXPECT_EQ(load_database_key(home.path(), std::string("pass"), false).status().code(),
            ErrorCode::kStorageCorrupt);
  write_file(home / "db.salt", "parley-db-salt 1\nalg argon2id13\nsalt 0007\n");
  EXPECT_EQ(load_database_key(home.path(), std::string("pass"), false).status().code(),
            ErrorCode::kStorageCorrupt);
  write_file(home / "db.salt", "parley-db-salt 9\n");
  EXPECT_EQ(load_database_key(home.path(), std::string("pass"), false).status().code(),
            ErrorCode::kUnsupportedVersion);
}

}  // namespace
}  // namespace parley::client
