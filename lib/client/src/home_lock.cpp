// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/home_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <system_error>
#include <utility>

namespace parley::client {

namespace {

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

}  // namespace

std::filesystem::path HomeLock::lock_file_in(const std::filesystem::path& home) {
  return home / "lock";
}

Result<HomeLock> HomeLock::try_acquire(const std::filesystem::path& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int error = errno;
    return Status::error(ErrorCode::kStorageIo,
                         "cannot open " + lock_file.string() + ": " + errno_text(error));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int error = errno;
    // Not ours: close without touching the holder's PID.
    ::close(fd);
    if (error == EWOULDBLOCK) {
      auto pid = holder_pid(lock_file);
      std::string who =
          pid ? "another parley (pid " + std::to_string(*pid) + ")" : std::string("another parley");
      return Status::error(ErrorCode::kFailedPrecondition, who + " is using this home");
    }
    return Status::error(ErrorCode::kStorageIo,
                         "cannot lock " + lock_file.string() + ": " + errno_text(error));
  }
  HomeLock lock(fd);  // from here on the destructor releases it
  // Ours now: replace whatever PID a previous holder left behind.
  std::string content = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    int error = errno;
    return Status::error(ErrorCode::kStorageIo,
                         "cannot write " + lock_file.string() + ": " + errno_text(error));
  }
  return lock;
}

std::optional<pid_t> HomeLock::holder_pid(const std::filesystem::path& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  char buffer[32];
  ssize_t n = ::pread(fd, buffer, sizeof(buffer), 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  const char* end = buffer + n;
  pid_t pid = 0;
  auto [ptr, error] = std::from_chars(buffer, end, pid);
  if (error != std::errc() || ptr == buffer || pid <= 0) return std::nullopt;
  if (ptr != end && *ptr != '\n') return std::nullopt;
  return pid;
}

HomeLock::HomeLock(HomeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

HomeLock& HomeLock::operator=(HomeLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

HomeLock::~HomeLock() {
  release();
}

void HomeLock::release() {
  if (fd_ < 0) return;
  // Clear the PID first so nobody names a process that no longer holds the lock; closing the
  // descriptor releases the flock.
  if (::ftruncate(fd_, 0) != 0) {
    // Nothing to do: the lock goes with the descriptor; a stale PID only makes a message vaguer.
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace parley::client
