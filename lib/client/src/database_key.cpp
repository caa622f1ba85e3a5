// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/database_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "parley/util/encoding.h"

namespace parley::client {
namespace {

constexpr std::size_t kKeySize = 32;
constexpr std::size_t kSaltSize = crypto_pwhash_SALTBYTES;  // 16
constexpr const char* kSaltFile = "db.salt";
constexpr const char* kKeyFile = "db.key";
constexpr std::string_view kSaltHeader = "parley-db-salt 1";
constexpr std::size_t kMaxSaltFileSize = 1024;
// A tampered salt file must not make us allocate without bound: 4 GiB is well above any limit
// Parley has used (MODERATE: 256 MiB).
constexpr unsigned long long kMaxMemlimit = 4ULL << 30;

// What db.salt holds: everything needed to derive the same key again, so that changing the
// defaults later keeps existing homes working.
struct SaltParams {
  Bytes salt;
  unsigned long long opslimit = 0;
  std::size_t memlimit = 0;
};

Status io_error(std::string_view what, const std::filesystem::path& path) {
  return Status::error(ErrorCode::kStorageIo, std::string(what) + " " + path.string() + ": " +
                                                  std::generic_category().message(errno));
}

Status write_all(int fd, ByteView data, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot write", path);
    done += static_cast<std::size_t>(n);
  }
  return Status();
}

Status fsync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("cannot sync", dir);
  return Status();
}

// Writes `data` to `path` atomically and only if `path` does not exist yet: a private temp file
// (O_EXCL, 0600) is written and fsynced, then hard-linked into place, which fails with EEXIST
// rather than replace a file another process created meanwhile. kAlreadyExists in that case.
Status create_file_atomically(const std::filesystem::path& path, ByteView data) {
  std::array<std::uint8_t, 8> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  std::filesystem::path temp = path;
  temp += ".tmp-" + hex_encode(nonce);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return io_error("cannot create", temp);
  Status status = write_all(fd, data, temp);
  if (status.ok() && ::fsync(fd) != 0) status = io_error("cannot sync", temp);
  ::close(fd);
  if (status.ok() && ::link(temp.c_str(), path.c_str()) != 0) {
    status = errno == EEXIST ? Status::error(ErrorCode::kAlreadyExists, path.string() + " exists")
                             : io_error("cannot create", path);
  }
  ::unlink(temp.c_str());
  if (!status.ok()) return status;
  return fsync_dir(path.parent_path().empty() ? "." : path.parent_path());
}

// Reads a small file whole; kStorageCorrupt when it is larger than `max_size`.
Result<SecretBytes> read_small_file(int fd, const std::filesystem::path& path,
                                    std::size_t max_size) {
  SecretBytes data(max_size + 1);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", path);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done > max_size) {
    return Status::error(ErrorCode::kStorageCorrupt, path.string() + " is too large");
  }
  data.resize(done);
  return data;
}

std::string format_salt(const SaltParams& params) {
  return std::string(kSaltHeader) + "\nalg argon2id13\nsalt " + hex_encode(params.salt) +
         "\nopslimit " + std::to_string(params.opslimit) + "\nmemlimit " +
         std::to_string(params.memlimit) + "\n";
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

Result<SaltParams> parse_salt(std::string_view text, const std::filesystem::path& path) {
  Status bad = Status::error(ErrorCode::kStorageCorrupt,
                             path.string() +
                                 " is damaged; without it the database cannot be "
                                 "opened");
  auto next_line = [&text]() {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    return line;
  };
  auto field = [&](std::string_view name) -> std::optional<std::string_view> {
    std::string_view line = next_line();
    if (line.size() <= name.size() + 1 || line.substr(0, name.size()) != name ||
        line[name.size()] != ' ') {
      return std::nullopt;
    }
    return line.substr(name.size() + 1);
  };
  if (next_line() != kSaltHeader) {
    return Status::error(ErrorCode::kUnsupportedVersion,
                         path.string() + " has an unknown format (made by a newer Parley?)");
  }
  std::optional<std::string_view> alg = field("alg");
  if (!alg || *alg != "argon2id13") return bad;
  std::optional<std::string_view> salt_hex = field("salt");
  std::optional<std::string_view> ops = field("opslimit");
  std::optional<std::string_view> mem = field("memlimit");
  if (!salt_hex || !ops || !mem || !text.empty()) return bad;
  SaltParams params;
  Result<Bytes> salt = hex_decode(*salt_hex);
  if (!salt.ok() || salt->size() != kSaltSize) return bad;
  params.salt = std::move(salt).value();
  if (!parse_number(*ops, params.opslimit) || !parse_number(*mem, params.memlimit)) return bad;
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      params.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > kMaxMemlimit) {
    return bad;
  }
  return params;
}

Result<SecretBytes> derive(const std::string& passphrase, const SaltParams& params) {
  SecretBytes key(kKeySize);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(),
                    params.salt.data(), params.opslimit, params.memlimit,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::error(ErrorCode::kResourceExhausted,
                         "not enough memory to derive the database key from the passphrase");
  }
  return key;
}

Result<DatabaseKey> load_passphrase_key(const std::filesystem::path& home,
                                        const std::string& passphrase, bool create) {
  const std::filesystem::path path = home / kSaltFile;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) return io_error("cannot open", path);
  if (fd >= 0) {
    Result<SecretBytes> text = read_small_file(fd, path, kMaxSaltFileSize);
    ::close(fd);
    PARLEY_RETURN_IF_ERROR(text);
    PARLEY_ASSIGN_OR_RETURN(SaltParams params, parse_salt(as_string_view(text->view()), path));
    PARLEY_ASSIGN_OR_RETURN(SecretBytes key, derive(passphrase, params));
    return DatabaseKey{std::move(key), KeySource::kPassphrase};
  }
  if (!create) {
    return Status::error(ErrorCode::kNotInitialized, "no local database key in " + home.string());
  }
  SaltParams params;
  params.salt.resize(kSaltSize);
  randombytes_buf(params.salt.data(), params.salt.size());
  params.opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
  params.memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
  // Derive first: if memory runs out, no salt file is left behind for a key never used.
  PARLEY_ASSIGN_OR_RETURN(SecretBytes key, derive(passphrase, params));
  Status written = create_file_atomically(path, as_bytes(format_salt(params)));
  // Another process created the home at the same time: use its salt.
  if (written.code() == ErrorCode::kAlreadyExists)
    return load_passphrase_key(home, passphrase, false);
  PARLEY_RETURN_IF_ERROR(written);
  return DatabaseKey{std::move(key), KeySource::kPassphrase};
}

Result<DatabaseKey> load_key_file(const std::filesystem::path& home, bool create) {
  const std::filesystem::path path = home / kKeyFile;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno != ENOENT) return io_error("cannot open", path);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status status = io_error("cannot stat", path);
      ::close(fd);
      return status;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::error(ErrorCode::kStorageCorrupt, path.string() + " is not a regular file");
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      ::close(fd);
      return Status::error(ErrorCode::kPermissionDenied,
                           path.string() + " may be read by other users; run `chmod 600 " +
                               path.string() + "` (and consider the key exposed)");
    }
    Result<SecretBytes> key = read_small_file(fd, path, kKeySize);
    ::close(fd);
    PARLEY_RETURN_IF_ERROR(key);
    if (key->size() != kKeySize) {
      return Status::error(ErrorCode::kStorageCorrupt,
                           path.string() + " is damaged: it must hold exactly 32 bytes");
    }
    return DatabaseKey{std::move(key).value(), KeySource::kKeyFile};
  }
  if (!create) {
    return Status::error(ErrorCode::kNotInitialized, "no local database key in " + home.string());
  }
  SecretBytes key(kKeySize);
  randombytes_buf(key.data(), key.size());
  Status written = create_file_atomically(path, key.view());
  if (written.code() == ErrorCode::kAlreadyExists) return load_key_file(home, false);
  PARLEY_RETURN_IF_ERROR(written);
  return DatabaseKey{std::move(key), KeySource::kKeyFile};
}

bool path_exists(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

std::optional<KeySource> database_key_source(const std::filesystem::path& home) {
  if (path_exists(home / kSaltFile)) return KeySource::kPassphrase;
  if (path_exists(home / kKeyFile)) return KeySource::kKeyFile;
  return std::nullopt;
}

Result<DatabaseKey> load_database_key(const std::filesystem::path& home,
                                      const std::optional<std::string>& passphrase, bool create) {
  if (sodium_init() < 0) {
    return Status::error(ErrorCode::kRandomFailure, "libsodium failed to initialize");
  }
  const bool has_salt = path_exists(home / kSaltFile);
  const bool has_key = path_exists(home / kKeyFile);
  if (has_salt && has_key) {
    return Status::error(ErrorCode::kFailedPrecondition,
                         home.string() +
                             " has both db.salt and db.key; keep only the one the "
                             "database was made with");
  }
  if (passphrase.has_value()) {
    if (has_key) {
      return Status::error(ErrorCode::kFailedPrecondition,
                           "this home's database is protected by a key file (" +
                               (home / kKeyFile).string() +
                               "), not a passphrase; open it "
                               "without a passphrase");
    }
    if (passphrase->empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "the passphrase is empty");
    }
    return load_passphrase_key(home, *passphrase, create);
  }
  if (has_salt) {
    return Status::error(ErrorCode::kFailedPrecondition,
                         "this home's database is protected by a passphrase; give the passphrase "
                         "to open it");
  }
  return load_key_file(home, create);
}

}  // namespace parley::client
