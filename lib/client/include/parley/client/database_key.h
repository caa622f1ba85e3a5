// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Where the key of the local SQLCipher database comes from. Two ways, chosen when a home is
// created and fixed afterwards:
//   - a passphrase: key = Argon2id(passphrase, salt) with libsodium's crypto_pwhash (MODERATE
//     limits: 256 MiB, 3 passes); the 16-byte salt and the limits live in <home>/db.salt;
//   - no passphrase: 32 random bytes in <home>/db.key, mode 0600, refused if anyone but the
//     owner can read it.
// Nothing here is secret on disk except db.key, and that one is as safe as the home directory.

#include <filesystem>
#include <optional>
#include <string>

#include "parley/util/secret_bytes.h"
#include "parley/util/status.h"

namespace parley::client {

enum class KeySource { kPassphrase, kKeyFile };

struct DatabaseKey {
  SecretBytes key;  // 32 bytes, for PRAGMA key
  KeySource source = KeySource::kKeyFile;
};

// Which way `home` uses, or nullopt when it has neither file yet.
std::optional<KeySource> database_key_source(const std::filesystem::path& home);

// Loads (or, with `create`, makes) the key for `home`.
// - With a passphrase on a key-file home, or without one on a passphrase home:
//   kFailedPrecondition with a sentence saying which one the home needs.
// - db.key with group/other permission bits: kPermissionDenied naming the file and `chmod 600`.
// - Neither file and !create: kNotInitialized.
// A wrong passphrase is only detected when the database is opened (kWrongDatabaseKey).
Result<DatabaseKey> load_database_key(const std::filesystem::path& home,
                                      const std::optional<std::string>& passphrase, bool create);

}  // namespace parley::client
