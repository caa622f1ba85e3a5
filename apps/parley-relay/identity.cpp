// SPDX-License-Identifier: AGPL-3.0-or-later
#include "identity.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "parley/gateway/certificate.h"
#include "parley/net/relay_link.h"
#include "parley/util/encoding.h"

namespace parley::relay {
namespace {

namespace fs = std::filesystem;

bool is_secret_hex(const std::string& text) {
  if (text.size() != 2 * net::kRelaySecretBytes) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

Result<std::string> load_or_create_secret(const fs::path& file) {
  std::error_code ec;
  if (fs::exists(file, ec)) {
    std::ifstream in(file);
    std::string text;
    std::getline(in, text);
    if (!in && !in.eof()) return Status::error(ErrorCode::kStorageIo, "cannot read the secret");
    if (!is_secret_hex(text)) {
      return Status::error(ErrorCode::kMalformedInput,
                           "the relay secret file is damaged (expected 32 hex digits)");
    }
    return text;
  }
  std::array<unsigned char, net::kRelaySecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Status::error(ErrorCode::kInternal, "no randomness for the relay secret");
  }
  std::string hex = hex_encode(ByteView(bytes.data(), bytes.size()));
  const std::string temp = file.string() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::error(ErrorCode::kStorageIo, "cannot create the secret file");
  const std::string line = hex + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), file.c_str()) != 0) {
    return Status::error(ErrorCode::kStorageIo, "cannot write the secret file");
  }
  return hex;
}

}  // namespace

Result<std::string> spki_pin_of_certificate_file(const std::string& cert_file) {
  std::ifstream in(cert_file, std::ios::binary);
  if (!in) return Status::error(ErrorCode::kNotFound, "cannot open the certificate");
  std::ostringstream pem;
  pem << in.rdbuf();
  return net::spki_pin_of_certificate_pem(pem.str());
}

Result<RelayIdentity> load_or_create_identity(const std::string& data_dir,
                                              const std::string& cover_name,
                                              const std::string& cert_file,
                                              const std::string& key_file) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::error(ErrorCode::kStorageIo, "cannot create the data directory");
  ::chmod(data_dir.c_str(), 0700);

  RelayIdentity identity;
  PARLEY_ASSIGN_OR_RETURN(identity.secret_hex,
                          load_or_create_secret(fs::path(data_dir) / "secret"));

  if (!cert_file.empty() || !key_file.empty()) {
    if (cert_file.empty() || key_file.empty()) {
      return Status::error(ErrorCode::kInvalidArgument, "--cert and --key go together");
    }
    identity.cert_file = cert_file;
    identity.key_file = key_file;
  } else {
    const std::string dir = (fs::path(data_dir) / "tls").string();
    gateway::CertificateFiles files = gateway::certificate_files_in(dir);
    if (!fs::exists(files.cert_file, ec) || !fs::exists(files.key_file, ec)) {
      gateway::SelfSignedOptions options;
      options.common_name = cover_name.empty() ? "localhost" : cover_name;
      options.dns_names = {options.common_name};
      options.ip_addresses = {};
      PARLEY_ASSIGN_OR_RETURN(files, gateway::write_self_signed_certificate(dir, options));
    }
    identity.cert_file = files.cert_file;
    identity.key_file = files.key_file;
  }
  PARLEY_ASSIGN_OR_RETURN(identity.pin_hex, spki_pin_of_certificate_file(identity.cert_file));
  return identity;
}

std::string share_link(const RelayIdentity& identity, const std::string& public_host,
                       std::uint16_t public_port, const std::string& cover_name,
                       const std::string& name) {
  net::RelayLink link;
  link.host = public_host;
  link.port = public_port;
  link.secret_hex = identity.secret_hex;
  link.pin_hex = identity.pin_hex;
  if (!cover_name.empty() && cover_name != public_host) link.sni = cover_name;
  link.name = name;
  return net::format_relay_link(link);
}

}  // namespace parley::relay
