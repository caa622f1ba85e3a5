// SPDX-License-Identifier: AGPL-3.0-or-later
#include "passphrase.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace parley::cli {
namespace {

class PassphraseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("parley_passphrase_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  static client::EnvLookup env(const std::optional<std::string>& value) {
    return [value](const char*) { return value; };
  }

  std::filesystem::path dir_;
};

TEST_F(PassphraseTest, NoneMeansKeyFile) {
  auto passphrase = load_passphrase(std::nullopt, env(std::nullopt));
  ASSERT_TRUE(passphrase.ok());
  EXPECT_FALSE(passphrase->has_value());
}

TEST_F(PassphraseTest, FromEnvironment) {
  auto passphrase = load_passphrase(std::nullopt, env("correct horse"));
  ASSERT_TRUE(passphrase.ok());
  EXPECT_EQ(passphrase->value(), "correct horse");
}

TEST_F(PassphraseTest, FileWinsAndLosesOneNewline) {
  auto passphrase = load_passphrase(write("p", "battery staple\n"), env("from env"));
  ASSERT_TRUE(passphrase.ok());
  EXPECT_EQ(passphrase->value(), "battery staple");
  EXPECT_EQ(load_passphrase(write("q", "two\n\n"), env(std::nullopt))->value(), "two\n");
  EXPECT_EQ(load_passphrase(write("r", "crlf\r\n"), env(std::nullopt))->value(), "crlf");
  EXPECT_EQ(load_passphrase(write("s", " spaced "), env(std::nullopt))->value(), " spaced ");
}

TEST_F(PassphraseTest, EmptyIsRefused) {
  EXPECT_EQ(load_passphrase(write("e", "\n"), env(std::nullopt)).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(load_passphrase(std::nullopt, env("")).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(PassphraseTest, MissingOrHugeFileIsAnError) {
  EXPECT_EQ(load_passphrase((dir_ / "missing").string(), env("x")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(
      load_passphrase(write("big", std::string(5000, 'a')), env(std::nullopt)).status().code(),
      ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace parley::cli
