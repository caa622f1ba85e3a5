// SPDX-License-Identifier: AGPL-3.0-or-later
//
// File encryption for attachments: round trips at the sizes that matter (empty, one byte, exact
// chunk multiples, a partial last chunk), and refusal of every change an attacker or a broken
// transfer can make — a flipped byte anywhere, truncation at and between chunk boundaries, data
// appended after the final chunk, the wrong key, a wrong digest — without leaving any output.

#include "../src/attachment_crypto.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "../src/attachment_files.h"
#include "parley/crypto/random.h"
#include "temp_home.h"

namespace parley::client::attachment {
namespace {

using testing::TempHome;

constexpr std::uint32_t kChunk = 1024;  // small chunks so the tests cross many boundaries

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string random_text(std::size_t size) {
  Bytes bytes = crypto::random_bytes(size);
  return std::string(bytes.begin(), bytes.end());
}

class AttachmentCryptoTest : public ::testing::Test {
 protected:
  std::filesystem::path plain() const { return home_ / "plain"; }
  std::filesystem::path sealed() const { return home_ / "sealed"; }
  std::filesystem::path opened() const { return home_ / "opened"; }

  EncryptedFile encrypt(const std::string& content) {
    write_file(plain(), content);
    remove_quietly(sealed());
    auto encrypted = encrypt_file(plain(), sealed(), 1 << 30, kChunk);
    EXPECT_TRUE(encrypted.ok()) << encrypted.status().to_string();
    return encrypted.ok() ? std::move(*encrypted) : EncryptedFile{};
  }
  Status decrypt(const EncryptedFile& file) {
    remove_quietly(opened());
    DecryptParams params;
    params.key = &file.key;
    params.digest = file.digest;
    params.size = file.size;
    params.ciphertext_size = file.ciphertext_size;
    params.chunk_size = file.chunk_size;
    return decrypt_file(sealed(), opened(), params);
  }

  TempHome home_;
};

TEST_F(AttachmentCryptoTest, RoundTripsAtEverySizeThatMatters) {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{kChunk - 1}, std::size_t{kChunk},
        std::size_t{kChunk + 1}, std::size_t{3UL * kChunk}, std::size_t{5UL * kChunk + 17}}) {
    SCOPED_TRACE(size);
    std::string content = random_text(size);
    EncryptedFile file = encrypt(content);
    EXPECT_EQ(file.size, size);
    EXPECT_EQ(file.key.size(), kKeyBytes);
    EXPECT_EQ(file.digest.size(), kDigestBytes);
    EXPECT_EQ(file.ciphertext_size, ciphertext_size_for(size, kChunk));
    EXPECT_EQ(std::filesystem::file_size(sealed()), file.ciphertext_size);
    ASSERT_TRUE(decrypt(file).ok()) << decrypt(file).to_string();
    EXPECT_EQ(testing::file_bytes(opened()), content);
  }
  // An exact multiple needs no extra empty chunk; an empty file is one empty final chunk.
  EXPECT_EQ(ciphertext_size_for(2UL * kChunk, kChunk), kHeaderBytes + 2UL * (kChunk + 17));
  EXPECT_EQ(ciphertext_size_for(0, kChunk), kHeaderBytes + 17);
}

TEST_F(AttachmentCryptoTest, EveryKeyIsFreshAndTheCiphertextHidesThePlaintext) {
  std::string content(4UL * kChunk, 'A');
  EncryptedFile first = encrypt(content);
  std::string first_sealed = testing::file_bytes(sealed());
  EncryptedFile second = encrypt(content);
  EXPECT_FALSE(first.key == second.key);
  EXPECT_NE(first.digest, second.digest);
  EXPECT_EQ(first_sealed.find(std::string(64, 'A')), std::string::npos);
}

TEST_F(AttachmentCryptoTest, AFlippedByteAnywhereIsRefusedAndNothingIsLeft) {
  std::string content = random_text(3 * kChunk + 100);
  EncryptedFile file = encrypt(content);
  std::string original = testing::file_bytes(sealed());
  // The header, each chunk's body and tag, and the last byte.
  for (std::size_t at :
       {std::size_t{0}, std::size_t{23}, std::size_t{24}, std::size_t{500},
        kHeaderBytes + kChunk + 16, kHeaderBytes + kChunk + 17 + 3, original.size() - 1}) {
    SCOPED_TRACE(at);
    std::string changed = original;
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    write_file(sealed(), changed);
    Status status = decrypt(file);
    EXPECT_EQ(status.code(), ErrorCode::kBadMac) << status.to_string();
    EXPECT_FALSE(std::filesystem::exists(opened()));
  }
}

TEST_F(AttachmentCryptoTest, TruncationAndTrailingDataAreRefused) {
  std::string content = random_text(3UL * kChunk);
  EncryptedFile file = encrypt(content);
  std::string original = testing::file_bytes(sealed());
  const std::size_t sealed_chunk = kChunk + kChunkOverheadBytes;
  // Cut at a chunk boundary (every remaining chunk authenticates, but none is final), inside a
  // chunk, inside the header, and to nothing.
  for (std::size_t keep : {kHeaderBytes + sealed_chunk, kHeaderBytes + 2 * sealed_chunk,
                           kHeaderBytes + sealed_chunk + 100, std::size_t{10}, std::size_t{0}}) {
    SCOPED_TRACE(keep);
    write_file(sealed(), original.substr(0, keep));
    Status status = decrypt(file);
    EXPECT_FALSE(status.ok());
    EXPECT_TRUE(status.code() == ErrorCode::kDecryptFailed || status.code() == ErrorCode::kBadMac)
        << status.to_string();
    EXPECT_FALSE(std::filesystem::exists(opened()));
  }
  for (std::size_t keep : {kHeaderBytes + sealed_chunk, kHeaderBytes + 2 * sealed_chunk}) {
    write_file(sealed(), original.substr(0, keep));
    EXPECT_EQ(decrypt(file).code(), ErrorCode::kDecryptFailed);
  }
  write_file(sealed(), original + "x");
  EXPECT_EQ(decrypt(file).code(), ErrorCode::kMalformedInput);
  EXPECT_FALSE(std::filesystem::exists(opened()));
}

TEST_F(AttachmentCryptoTest, WrongKeyWrongDigestAndWrongSizesAreRefused) {
  std::string content = random_text(2 * kChunk + 5);
  EncryptedFile file = encrypt(content);

  EncryptedFile wrong_key{crypto::random_secret(kKeyBytes), file.digest, file.size,
                          file.ciphertext_size, file.chunk_size};
  EXPECT_EQ(decrypt(wrong_key).code(), ErrorCode::kBadMac);

  EncryptedFile wrong_digest{file.key.clone(), file.digest, file.size, file.ciphertext_size,
                             file.chunk_size};
  wrong_digest.digest[0] ^= 1;
  EXPECT_EQ(decrypt(wrong_digest).code(), ErrorCode::kBadMac);

  EncryptedFile wrong_size{file.key.clone(), file.digest, file.size - 1,
                           ciphertext_size_for(file.size - 1, kChunk), file.chunk_size};
  EXPECT_EQ(decrypt(wrong_size).code(), ErrorCode::kMalformedInput);

  EncryptedFile inconsistent{file.key.clone(), file.digest, file.size, file.ciphertext_size + 1,
                             file.chunk_size};
  EXPECT_EQ(decrypt(inconsistent).code(), ErrorCode::kMalformedInput);
  EXPECT_FALSE(std::filesystem::exists(opened()));

  ASSERT_TRUE(decrypt(file).ok());
  EXPECT_EQ(testing::file_bytes(opened()), content);
}

TEST_F(AttachmentCryptoTest, TooLargeIsRefusedWhileReading) {
  write_file(plain(), std::string(3000, 'x'));
  auto encrypted = encrypt_file(plain(), sealed(), 2999, kChunk);
  EXPECT_EQ(encrypted.status().code(), ErrorCode::kTooLarge);
  EXPECT_FALSE(std::filesystem::exists(sealed()));
  EXPECT_TRUE(encrypt_file(plain(), sealed(), 3000, kChunk).ok());
}

TEST(AttachmentFilesTest, PeerFileNamesCannotLeaveTheDownloadDirectory) {
  EXPECT_EQ(sanitize_file_name("photo.jpg"), "photo.jpg");
  EXPECT_EQ(sanitize_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitize_file_name("..\\..\\boot.ini"), "boot.ini");
  EXPECT_EQ(sanitize_file_name(".."), "_.");
  EXPECT_EQ(sanitize_file_name("."), "_");
  EXPECT_EQ(sanitize_file_name("dir/"), "file");
  EXPECT_EQ(sanitize_file_name(""), "file");
  EXPECT_EQ(sanitize_file_name(".bashrc"), "_bashrc");
  EXPECT_EQ(sanitize_file_name("a\nb\x1b[2Jc.txt"), "a_b_[2Jc.txt");
  EXPECT_EQ(sanitize_file_name("invoice\xe2\x80\xaegpj.exe"), "invoice_gpj.exe");  // RLO
  EXPECT_EQ(sanitize_file_name("caf\xc3\xa9.txt"), "caf\xc3\xa9.txt");
  EXPECT_EQ(sanitize_file_name("bad\xff.txt"), "bad_.txt");
  std::string long_name = std::string(300, 'n') + ".tar.gz";
  std::string shortened = sanitize_file_name(long_name);
  EXPECT_LE(shortened.size(), 200u);
  EXPECT_EQ(shortened.substr(shortened.size() - 3), ".gz");
}

TEST(AttachmentFilesTest, MovingIntoPlaceNeverReplacesAFile) {
  TempHome home;
  write_file(home / "report.pdf", "existing");
  write_file(home / "a", "first");
  write_file(home / "b", "second");
  auto first = move_into_place(home / "a", home.path(), "report.pdf");
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->filename(), "report (1).pdf");
  auto second = move_into_place(home / "b", home.path(), "report.pdf");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->filename(), "report (2).pdf");
  EXPECT_EQ(testing::file_bytes(home / "report.pdf"), "existing");
  EXPECT_EQ(testing::file_bytes(*second), "second");
  EXPECT_FALSE(std::filesystem::exists(home / "a"));
}

}  // namespace
}  // namespace parley::client::attachment
