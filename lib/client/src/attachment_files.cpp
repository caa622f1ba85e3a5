// SPDX-License-Identifier: AGPL-3.0-or-later
#include "attachment_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>
#include <utility>

namespace parley::client::attachment {

namespace {

Status io_error(const std::string& what, int error) {
  // Permissions count as I/O trouble (kStorageIo): fixable, so a transfer is retried later.
  ErrorCode code = error == ENOSPC || error == EDQUOT ? ErrorCode::kStorageFull
                   : error == ENOENT                  ? ErrorCode::kNotFound
                   : error == EEXIST                  ? ErrorCode::kAlreadyExists
                                                      : ErrorCode::kStorageIo;
  return Status::error(code, what + ": " + std::generic_category().message(error));
}

// Decodes one UTF-8 code point at `i`; returns its length, 0 when invalid.
std::size_t utf8_length(std::string_view text, std::size_t i, char32_t& code_point) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t length = lead < 0x80           ? 1
                       : (lead >> 5) == 0x6  ? 2
                       : (lead >> 4) == 0xe  ? 3
                       : (lead >> 3) == 0x1e ? 4
                                             : 0;
  if (length == 0 || i + length > text.size()) return 0;
  if (length == 1) {
    code_point = lead;
    return 1;
  }
  code_point = lead & (0x7f >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinimum[length] || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point <= 0xdfff)) {
    return 0;  // overlong, out of range, or a surrogate
  }
  return length;
}

bool unsafe_code_point(char32_t c) {
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||             // C0, DEL, C1
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||  // bidi overrides
         c == 0x200e || c == 0x200f || c == 0x061c || c == 0xfeff;
}

// The longest prefix of `text` of at most `limit` bytes that does not split a code point.
std::string_view utf8_prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

Result<File> File::open_read(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open " + path.string(), errno);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::error(ErrorCode::kInvalidArgument, path.string() + " is not a regular file");
  }
  return File(fd);
}

Result<File> File::create(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create " + path.string(), errno);
  return File(fd);
}

Result<File> File::open_append(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open " + path.string(), errno);
  return File(fd);
}

File::File(File&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> File::read(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd_, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read a file", errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status File::write(ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write a file", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status();
}

Status File::seek(std::uint64_t offset) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return io_error("cannot seek in a file", errno);
  }
  return Status();
}

Result<std::uint64_t> File::size() const {
  struct stat info {};
  if (::fstat(fd_, &info) != 0) return io_error("cannot stat a file", errno);
  return static_cast<std::uint64_t>(info.st_size);
}

Status File::sync() {
  if (::fsync(fd_) != 0) return io_error("cannot sync a file", errno);
  return Status();
}

Status File::close() {
  if (fd_ < 0) return Status();
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0 && errno != EINTR) return io_error("cannot close a file", errno);
  return Status();
}

std::string sanitize_file_name(std::string_view name) {
  std::size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string safe;
  safe.reserve(name.size());
  for (std::size_t i = 0; i < name.size();) {
    char32_t c = 0;
    std::size_t length = utf8_length(name, i, c);
    if (length == 0) {
      safe += '_';
      i += 1;
      continue;
    }
    if (unsafe_code_point(c)) {
      safe += '_';
    } else {
      safe.append(name.substr(i, length));
    }
    i += length;
  }
  if (!safe.empty() && safe.front() == '.') safe.front() = '_';
  constexpr std::size_t kMaxBytes = 200;
  if (safe.size() > kMaxBytes) {
    std::size_t dot = safe.find_last_of('.');
    std::string_view extension;
    if (dot != std::string::npos && safe.size() - dot <= 16) {
      extension = std::string_view(safe).substr(dot);
    }
    std::string shortened(utf8_prefix(safe, kMaxBytes - extension.size()));
    shortened.append(extension);
    safe = std::move(shortened);
  }
  if (safe.empty()) safe = "file";
  return safe;
}

Result<std::filesystem::path> move_into_place(const std::filesystem::path& from,
                                              const std::filesystem::path& dir,
                                              const std::string& name) {
  std::string stem = name, extension;
  std::size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) {
    stem = name.substr(0, dot);
    extension = name.substr(dot);
  }
  for (int n = 0; n < 10000; ++n) {
    std::filesystem::path target =
        dir / (n == 0 ? name : stem + " (" + std::to_string(n) + ")" + extension);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
      return target;
    }
    int error = errno;
    if (error == EEXIST) continue;
    if (error != EINVAL && error != ENOSYS) {
      return io_error("cannot move a received file into " + dir.string(), error);
    }
    // A file system without RENAME_NOREPLACE: link() refuses to replace as well.
    if (::link(from.c_str(), target.c_str()) == 0) {
      ::unlink(from.c_str());
      return target;
    }
    if (errno == EEXIST) continue;
    return io_error("cannot move a received file into " + dir.string(), errno);
  }
  return Status::error(ErrorCode::kAlreadyExists,
                       "too many files with the same name in " + dir.string());
}

void remove_quietly(const std::filesystem::path& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
}

}  // namespace parley::client::attachment
