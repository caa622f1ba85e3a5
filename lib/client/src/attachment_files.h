// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Files for attachments: a small POSIX file handle (the transfers append, seek and fsync, which
// iostreams cannot promise), names that came from a peer made safe to use in the download
// directory, and moving a finished file into place without ever replacing an existing one.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "parley/util/bytes.h"
#include "parley/util/status.h"

namespace parley::client::attachment {

class File {
 public:
  static Result<File> open_read(const std::filesystem::path& path);
  // A new file, mode 0600; kAlreadyExists when `path` exists.
  static Result<File> create(const std::filesystem::path& path);
  // Appends to `path` (created 0600 when missing).
  static Result<File> open_append(const std::filesystem::path& path);

  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  // Fills `out` unless the file ends first; returns how many bytes were read (0 at the end).
  Result<std::size_t> read(std::span<std::uint8_t> out);
  Status write(ByteView data);
  Status seek(std::uint64_t offset);
  Result<std::uint64_t> size() const;
  Status sync();
  // Closes and reports a failed close (a delayed write error).
  Status close();

 private:
  explicit File(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// A file name as a peer sent it, made safe to create inside the download directory: only the
// part after the last '/' or '\\'; control characters, bidirectional overrides and invalid
// UTF-8 become '_'; a leading '.' becomes '_' (no hidden files, no "." or ".."); at most 200
// bytes (the extension kept); "file" when nothing is left.
std::string sanitize_file_name(std::string_view name);

// Moves `from` into `dir` as `name`, or "stem (1).ext", "stem (2).ext", ... when the name is
// taken. Never replaces an existing file (RENAME_NOREPLACE, or link + unlink). Returns the path.
Result<std::filesystem::path> move_into_place(const std::filesystem::path& from,
                                              const std::filesystem::path& dir,
                                              const std::string& name);

// Removes a file, ignoring "not there".
void remove_quietly(const std::filesystem::path& path);

}  // namespace parley::client::attachment
