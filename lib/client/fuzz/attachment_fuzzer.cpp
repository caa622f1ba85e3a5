// SPDX-License-Identifier: AGPL-3.0-or-later
// libFuzzer target: attachment::decrypt_file() on a downloaded blob, with the fixed attachment
// key of client_fixtures.h. A sender controls the blob and the pointer (sizes, digest) alike, so
// the input carries both:
//   [flags:1][plaintext size:2 big-endian][blob = the rest]
// flags bits 0-1 pick the chunk size (kAttachmentChunkSizes); bit 2 set: the digest is the
// SHA-256 of the blob (a sender who tells the truth about it), clear: a fixed digest no blob has.
// Anything that is not exactly a valid stream of the announced size must be refused with the
// output file removed; what is accepted must be the announced size.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../src/attachment_crypto.h"
#include "client_fixtures.h"
#include "parley/crypto/hash.h"
#include "parley/util/error_code.h"

using namespace parley;
using namespace parley::client;
namespace fs = std::filesystem;

namespace {

// One scratch directory per fuzzing process, on tmpfs when there is one (decrypt_file fsyncs).
// Never destroyed, so the exit handler that removes the directory can still read its path.
const fs::path& scratch() {
  static const fs::path* const dir = [] {
    std::error_code ignored;
    fs::path base =
        fs::is_directory("/dev/shm", ignored) ? fs::path("/dev/shm") : fs::temp_directory_path();
    auto* made = new fs::path(base / ("parley-fuzz-attachment-" + std::to_string(::getpid())));
    fs::create_directories(*made);
    (void)std::atexit([] {
      std::error_code quiet;
      fs::remove_all(scratch(), quiet);
    });
    return made;
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const SecretBytes key = fuzzing::fixed_attachment_key();
  const std::uint8_t flags = data[0];
  const std::uint32_t chunk_size = fuzzing::kAttachmentChunkSizes[flags & 3];
  const std::uint64_t plain_size = (std::uint64_t{data[1]} << 8) | data[2];
  const ByteView blob(data + 3, size - 3);

  const fs::path source = scratch() / "blob";
  const fs::path destination = scratch() / "plain";
  {
    std::ofstream out(source, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(blob.data()),
              static_cast<std::streamsize>(blob.size()));
    PARLEY_FUZZ_CHECK(out.good());
  }

  Bytes digest(attachment::kDigestBytes, 0xd1);
  if ((flags & 4) != 0) {
    auto computed = crypto::sha256(blob);
    digest.assign(computed.begin(), computed.end());
  }
  attachment::DecryptParams params;
  params.key = &key;
  params.digest = digest;
  params.size = plain_size;
  params.ciphertext_size = attachment::ciphertext_size_for(plain_size, chunk_size);
  params.chunk_size = chunk_size;

  Status status = attachment::decrypt_file(source, destination, params);
  std::error_code ignored;
  if (status.ok()) {
    PARLEY_FUZZ_CHECK((flags & 4) != 0);  // no blob has the fixed digest
    PARLEY_FUZZ_CHECK(blob.size() == params.ciphertext_size);
    PARLEY_FUZZ_CHECK(fs::file_size(destination, ignored) == plain_size);
    struct stat info {};
    PARLEY_FUZZ_CHECK(::stat(destination.c_str(), &info) == 0 && (info.st_mode & 0777) == 0600);
  } else {
    PARLEY_FUZZ_CHECK(status.code() != ErrorCode::kOk);
    PARLEY_FUZZ_CHECK(!fs::exists(destination, ignored));  // nothing half-decrypted stays
  }
  fs::remove(destination, ignored);
  fs::remove(source, ignored);
  return 0;
}
