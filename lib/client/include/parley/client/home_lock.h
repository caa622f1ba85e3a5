// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// One process at a time talks to the server for a home: `parley listen` holds this lock for as
// long as it runs, and a `parley send` started meanwhile only queues into the outbox (the database
// itself is shared safely by SQLite) and leaves the sending to the holder.
//
// The lock is flock(2) on <home>/lock. The kernel releases it when the holder exits, however it
// exits, so a crash never leaves a stale lock; the file's content (the holder's PID) is only there
// to name the holder in messages. The file is never deleted: deleting it would let two processes
// lock two different files of the same name.

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "parley/util/status.h"

namespace parley::client {

class HomeLock {
 public:
  // <home>/lock.
  static std::filesystem::path lock_file_in(const std::filesystem::path& home);

  // Takes the exclusive lock on `lock_file` (created with mode 0600 if missing) without waiting,
  // and writes this process's PID into it.
  // - held by another process (or another open of the file in this one): kFailedPrecondition,
  //   "another parley (pid N) is using this home";
  // - the file cannot be opened or locked: kStorageIo with the reason.
  static Result<HomeLock> try_acquire(const std::filesystem::path& lock_file);

  // The PID written by the current holder, if the file names one. Only meaningful right after
  // try_acquire() failed; the holder may exit at any moment.
  static std::optional<pid_t> holder_pid(const std::filesystem::path& lock_file);

  HomeLock(HomeLock&& other) noexcept;
  HomeLock& operator=(HomeLock&& other) noexcept;
  HomeLock(const HomeLock&) = delete;
  HomeLock& operator=(const HomeLock&) = delete;
  ~HomeLock();  // releases the lock

  bool held() const { return fd_ >= 0; }
  // Releases early (also done by the destructor).
  void release();

 private:
  explicit HomeLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace parley::client
