// SPDX-License-Identifier: AGPL-3.0-or-later
// FileBlobStore: the layout and durability rules are in file_blob_store.h.
#include "parley/store/file_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

#include "blob_store_base.h"
#include "parley/util/encoding.h"
#include "rocksdb_keys.h"

namespace parley::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "PRLYBLOB";
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 64;
constexpr std::size_t kOwnerOffset = 12;
constexpr std::size_t kSizeOffset = 28;
constexpr std::size_t kCreatedOffset = 36;
constexpr std::size_t kExpiresOffset = 44;
constexpr std::size_t kReceivedOffset = 56;  // rewritten after every chunk; within one sector
constexpr std::string_view kBlobSuffix = ".blob";
constexpr std::string_view kTempSuffix = ".blob.tmp";
constexpr std::string_view kCorruptSuffix = ".corrupt";

Status io_error(std::string_view what, int error) {
  std::string message = std::string(what) + ": " + std::generic_category().message(error);
  if (error == ENOSPC || error == EDQUOT) {
    return Status::error(ErrorCode::kStorageFull, std::move(message));
  }
  return Status::error(ErrorCode::kStorageIo, std::move(message));
}

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

Status write_all(int fd, const std::uint8_t* data, std::size_t size, std::uint64_t offset,
                 std::string_view what) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(what, errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

// Reads exactly `size` bytes; a short file is kStorageCorrupt.
Status read_all(int fd, std::uint8_t* data, std::size_t size, std::uint64_t offset,
                std::string_view what) {
  while (size > 0) {
    ssize_t n = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(what, errno);
    }
    if (n == 0)
      return Status::error(ErrorCode::kStorageCorrupt, std::string(what) + ": file short");
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

Status sync(int fd, std::string_view what) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) return io_error(what, errno);
  }
  return {};
}

Status sync_directory(const fs::path& directory) {
  Fd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.ok()) return io_error("opening blob directory", errno);
  while (::fsync(fd.get()) != 0) {
    if (errno != EINTR) return io_error("syncing blob directory", errno);
  }
  return {};
}

using Header = std::array<std::uint8_t, kHeaderSize>;

void put_u64_at(Header& header, std::size_t offset, std::uint64_t value) {
  std::string bytes;
  keys::put_u64(bytes, value);
  std::memcpy(header.data() + offset, bytes.data(), 8);
}

std::uint64_t u64_at(const Header& header, std::size_t offset) {
  return keys::get_u64(
      std::string_view(reinterpret_cast<const char*>(header.data()), header.size()), offset);
}

Header encode_header(const BlobInfo& info) {
  Header header{};
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  std::string version;
  keys::put_u32(version, kFormatVersion);
  std::memcpy(header.data() + 8, version.data(), 4);
  std::copy(info.owner.begin(), info.owner.end(), header.begin() + kOwnerOffset);
  put_u64_at(header, kSizeOffset, info.size);
  put_u64_at(header, kCreatedOffset, static_cast<std::uint64_t>(info.created_ms));
  put_u64_at(header, kExpiresOffset, static_cast<std::uint64_t>(info.expires_ms));
  put_u64_at(header, kReceivedOffset, info.received);
  return header;
}

// nullopt when the header is not one we wrote (or is damaged).
std::optional<BlobInfo> decode_header(const Header& header, std::uint64_t file_size) {
  if (std::memcmp(header.data(), kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  std::string_view view(reinterpret_cast<const char*>(header.data()), header.size());
  if (keys::get_u32(view, 8) != kFormatVersion) return std::nullopt;
  BlobInfo info;
  std::copy_n(header.begin() + kOwnerOffset, kAccountIdSize, info.owner.begin());
  info.size = u64_at(header, kSizeOffset);
  info.created_ms = static_cast<std::int64_t>(u64_at(header, kCreatedOffset));
  info.expires_ms = static_cast<std::int64_t>(u64_at(header, kExpiresOffset));
  info.received = u64_at(header, kReceivedOffset);
  if (info.size == 0 || info.received > info.size) return std::nullopt;
  // Every received byte must be in the file (bytes past it are an unacknowledged chunk).
  if (file_size < kHeaderSize || file_size - kHeaderSize < info.received) return std::nullopt;
  return info;
}

std::optional<BlobId> id_from_name(std::string_view name) {
  if (!name.ends_with(kBlobSuffix)) return std::nullopt;
  name.remove_suffix(kBlobSuffix.size());
  if (name.size() != 2 * kBlobIdSize) return std::nullopt;
  auto bytes = hex_decode(name);
  if (!bytes.ok()) return std::nullopt;
  auto id = blob_id_from_bytes(*bytes);
  if (!id.ok()) return std::nullopt;
  return *id;
}

}  // namespace

class FileBlobStore::Impl final : public BlobStoreBase {
 public:
  explicit Impl(fs::path directory) : directory_(std::move(directory)) {}

  // Rebuilds the index from the files' headers.
  Status load() {
    std::error_code ec;
    fs::directory_iterator it(directory_, ec);
    if (ec) return Status::error(ErrorCode::kStorageIo, "listing blob directory: " + ec.message());
    for (const fs::directory_entry& file : it) {
      std::string name = file.path().filename().string();
      if (name.ends_with(kTempSuffix)) {  // a create cut short: never acknowledged
        fs::remove(file.path(), ec);
        continue;
      }
      auto id = id_from_name(name);
      if (!id) continue;
      auto info = read_header(file.path());
      if (!info) {
        fs::rename(file.path(), file.path().string() + std::string(kCorruptSuffix), ec);
        count_quarantined();
        continue;
      }
      auto entry = std::make_shared<Entry>();
      entry->id = *id;
      entry->info = *info;
      entry->info.received = 0;
      entry->received.store(info->received);
      adopt(std::move(entry));
    }
    return {};
  }

 protected:
  Status store_new(Entry& entry) override {
    fs::path temp = path_of(entry.id, kTempSuffix);
    Header header = encode_header(entry.snapshot());
    {
      Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (!fd.ok()) return io_error("creating blob", errno);
      Status written = write_all(fd.get(), header.data(), header.size(), 0, "writing blob header");
      if (written.ok()) written = sync(fd.get(), "syncing blob header");
      if (!written.ok()) {
        ::unlink(temp.c_str());
        return written;
      }
    }
    if (::rename(temp.c_str(), path_of(entry.id, kBlobSuffix).c_str()) != 0) {
      int error = errno;
      ::unlink(temp.c_str());
      return io_error("renaming blob", error);
    }
    return sync_directory(directory_);
  }

  Status store_chunk(Entry& entry, std::uint64_t offset, ByteView data) override {
    Fd fd(::open(path_of(entry.id, kBlobSuffix).c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.ok()) return io_error("opening blob", errno);
    PARLEY_RETURN_IF_ERROR(
        write_all(fd.get(), data.data(), data.size(), kHeaderSize + offset, "writing blob"));
    PARLEY_RETURN_IF_ERROR(sync(fd.get(), "syncing blob"));
    // Only now may the header count the chunk.
    std::string received;
    keys::put_u64(received, offset + data.size());
    PARLEY_RETURN_IF_ERROR(write_all(fd.get(),
                                     reinterpret_cast<const std::uint8_t*>(received.data()),
                                     received.size(), kReceivedOffset, "writing blob header"));
    return sync(fd.get(), "syncing blob header");
  }

  Result<Bytes> load_range(const Entry& entry, std::uint64_t offset,
                           std::uint64_t count) const override {
    Fd fd(::open(path_of(entry.id, kBlobSuffix).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.ok()) return io_error("opening blob", errno);
    Bytes out(count);
    PARLEY_RETURN_IF_ERROR(
        read_all(fd.get(), out.data(), out.size(), kHeaderSize + offset, "reading blob"));
    return out;
  }

  Status erase(Entry& entry) override {
    if (::unlink(path_of(entry.id, kBlobSuffix).c_str()) != 0 && errno != ENOENT) {
      return io_error("deleting blob", errno);
    }
    return {};
  }

 private:
  fs::path path_of(const BlobId& id, std::string_view suffix) const {
    return directory_ / (to_hex(id) + std::string(suffix));
  }

  static std::optional<BlobInfo> read_header(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.ok()) return std::nullopt;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return std::nullopt;
    Header header{};
    if (!read_all(fd.get(), header.data(), header.size(), 0, "reading blob header").ok()) {
      return std::nullopt;
    }
    return decode_header(header, static_cast<std::uint64_t>(st.st_size));
  }

  fs::path directory_;
};

FileBlobStore::FileBlobStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FileBlobStore::~FileBlobStore() = default;

Result<std::unique_ptr<FileBlobStore>> FileBlobStore::open(const std::string& directory) {
  if (directory.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "empty blob directory path");
  }
  std::error_code ec;
  fs::path path(directory);
  if (!fs::exists(path, ec)) {
    if (!fs::create_directories(path, ec) && ec) {
      return Status::error(ErrorCode::kStorageIo, "creating blob directory: " + ec.message());
    }
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  if (!fs::is_directory(path, ec)) {
    return Status::error(ErrorCode::kStorageIo, "blob path is not a directory");
  }
  auto impl = std::make_unique<Impl>(path);
  PARLEY_RETURN_IF_ERROR(impl->load());
  return std::make_unique<FileBlobStore>(std::move(impl));
}

Status FileBlobStore::create(const BlobId& id, const AccountId& owner, std::uint64_t size,
                             std::int64_t now_ms, std::int64_t expires_ms,
                             const BlobLimits& limits) {
  return impl_->create(id, owner, size, now_ms, expires_ms, limits);
}
Result<BlobInfo> FileBlobStore::append(const BlobId& id, const AccountId& owner,
                                       std::uint64_t offset, ByteView data, std::int64_t now_ms) {
  return impl_->append(id, owner, offset, data, now_ms);
}
Result<BlobInfo> FileBlobStore::status(const BlobId& id, std::int64_t now_ms) const {
  return impl_->status(id, now_ms);
}
Result<Bytes> FileBlobStore::read(const BlobId& id, std::uint64_t offset, std::uint64_t max_bytes,
                                  std::int64_t now_ms) const {
  return impl_->read(id, offset, max_bytes, now_ms);
}
Result<std::uint64_t> FileBlobStore::purge_expired(std::int64_t now_ms) {
  return impl_->purge_expired(now_ms);
}
BlobStats FileBlobStore::stats() const {
  return impl_->stats();
}

}  // namespace parley::store
