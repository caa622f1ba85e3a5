// SPDX-License-Identifier: AGPL-3.0-or-later
#include "parley/client/home_lock.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace parley::client {
namespace {

class HomeLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("parley_home_lock_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(home_);
    file_ = HomeLock::lock_file_in(home_);
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  std::string content() {
    std::ifstream in(file_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::filesystem::path home_;
  std::filesystem::path file_;
};

TEST_F(HomeLockTest, AcquireWritesPidWithPrivateMode) {
  EXPECT_EQ(file_, home_ / "lock");
  auto lock = HomeLock::try_acquire(file_);
  ASSERT_TRUE(lock.ok()) << lock.status().to_string();
  EXPECT_TRUE(lock->held());
  EXPECT_EQ(content(), std::to_string(::getpid()) + "\n");
  EXPECT_EQ(HomeLock::holder_pid(file_), ::getpid());
  struct stat info {};
  ASSERT_EQ(::stat(file_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(HomeLockTest, SecondAcquireFailsNamingTheHolder) {
  auto first = HomeLock::try_acquire(file_);
  ASSERT_TRUE(first.ok());
  // flock locks belong to the open file description, so a second open conflicts even here.
  auto second = HomeLock::try_acquire(file_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            "another parley (pid " + std::to_string(::getpid()) + ") is using this home");
  // The failed attempt must not have disturbed the holder's PID.
  EXPECT_EQ(content(), std::to_string(::getpid()) + "\n");
}

TEST_F(HomeLockTest, ReleaseLetsTheNextOneIn) {
  {
    auto lock = HomeLock::try_acquire(file_);
    ASSERT_TRUE(lock.ok());
  }
  EXPECT_EQ(HomeLock::holder_pid(file_), std::nullopt);  // the PID is cleared on release
  auto again = HomeLock::try_acquire(file_);
  ASSERT_TRUE(again.ok());
  again->release();
  EXPECT_FALSE(again->held());
  EXPECT_TRUE(HomeLock::try_acquire(file_).ok());
}

TEST_F(HomeLockTest, MovedLockStaysHeld) {
  auto lock = HomeLock::try_acquire(file_);
  ASSERT_TRUE(lock.ok());
  HomeLock moved = std::move(lock).value();
  EXPECT_TRUE(moved.held());
  EXPECT_FALSE(HomeLock::try_acquire(file_).ok());
}

TEST_F(HomeLockTest, HeldByAnotherProcessAndFreedWhenItDies) {
  int ready[2];
  int finish[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(finish), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = HomeLock::try_acquire(file_);
    char byte = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    (void)!::read(finish[0], &byte, 1);
    ::_exit(0);  // no unlock, no destructor: the kernel must release it
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  auto blocked = HomeLock::try_acquire(file_);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().message(),
            "another parley (pid " + std::to_string(child) + ") is using this home");
  EXPECT_EQ(HomeLock::holder_pid(file_), child);
  ASSERT_EQ(::write(finish[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto after = HomeLock::try_acquire(file_);
  EXPECT_TRUE(after.ok()) << after.status().to_string();
  for (int fd : {ready[0], ready[1], finish[0], finish[1]}) ::close(fd);
}

TEST_F(HomeLockTest, UnopenableFileIsStorageIo) {
  auto lock = HomeLock::try_acquire(home_ / "missing-dir" / "lock");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), ErrorCode::kStorageIo);
}

TEST_F(HomeLockTest, GarbageInTheFileNamesNoPid) {
  std::ofstream(file_) << "not a pid\n";
  EXPECT_EQ(HomeLock::holder_pid(file_), std::nullopt);
  std::ofstream(file_) << "-5\n";
  EXPECT_EQ(HomeLock::holder_pid(file_), std::nullopt);
}

}  // namespace
}  // namespace parley::client
