// SPDX-License-Identifier: AGPL-3.0-or-later
// resolve_doh() against a DNS-over-HTTPS resolver this test runs on 127.0.0.1: a Beast HTTPS
// server with a self-signed certificate made at test time, answering RFC 8484 POSTs from a small
// table (NXDOMAIN for other names), or misbehaving on purpose (HTTP 500, never answering).

// clang-format off
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange declared (GCC 12)
// clang-format on

#include "parley/net/doh.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "parley/net/transport_manager.h"

namespace parley::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// ---- a self-signed certificate for 127.0.0.1, made fresh for each test ----

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::string fingerprint;  // "SHA256:AB:…"
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

TestCertificate make_certificate() {
  TestCertificate out;
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  EXPECT_TRUE(key != nullptr && cert != nullptr);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("doh.test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "IP:127.0.0.1,DNS:doh.test");
  EXPECT_NE(san, nullptr);
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  EXPECT_GT(X509_sign(cert, key, EVP_sha256()), 0);

  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  out.cert_pem = bio_text(cert_bio);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_text(key_bio);
  BIO_free(key_bio);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(cert, EVP_sha256(), digest, &size);
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.fingerprint = "SHA256";
  for (unsigned int i = 0; i < size; ++i) {
    out.fingerprint += ':';
    out.fingerprint += kHex[digest[i] >> 4];
    out.fingerprint += kHex[digest[i] & 15];
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// ---- DNS answers, assembled independently of the library's parser ----

struct Zone {
  std::vector<std::array<std::uint8_t, 4>> a;
  std::vector<std::array<std::uint8_t, 16>> aaaa;
  std::string cname;  // set: the name is an alias of this one
};

void put16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value >> 8);
  out += static_cast<char>(value & 0xff);
}

void put_name(std::string& out, const std::string& dotted) {
  std::size_t start = 0;
  while (start < dotted.size()) {
    std::size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out += static_cast<char>(dot - start);
    out += dotted.substr(start, dot - start);
    start = dot + 1;
  }
  out += '\0';
}

void put_record(std::string& out, const std::string& owner, std::uint16_t type,
                const std::string& data) {
  put_name(out, owner);
  put16(out, type);
  put16(out, 1);
  put16(out, 0);
  put16(out, 60);
  put16(out, static_cast<std::uint16_t>(data.size()));
  out += data;
}

// The answer to `query` (an RFC 1035 query as our client sends it: one uncompressed question).
std::string answer(const std::string& query, const std::map<std::string, Zone>& zones) {
  if (query.size() < 17) return {};
  std::string name;
  std::size_t at = 12;
  while (at < query.size() && query[at] != 0) {
    auto length = static_cast<std::uint8_t>(query[at]);
    if (!name.empty()) name += '.';
    name += query.substr(at + 1, length);
    at += 1 + length;
  }
  std::string question = query.substr(12, at + 5 - 12);
  auto type = static_cast<std::uint16_t>((static_cast<std::uint8_t>(query[at + 1]) << 8) |
                                         static_cast<std::uint8_t>(query[at + 2]));
  std::string records;
  int count = 0;
  std::uint16_t rcode = 0;
  std::string current = name;
  while (true) {
    auto zone = zones.find(current);
    if (zone == zones.end()) {
      if (current == name) rcode = 3;
      break;
    }
    if (!zone->second.cname.empty()) {
      std::string target;
      put_name(target, zone->second.cname);
      put_record(records, current, 5, target);
      ++count;
      current = zone->second.cname;
      continue;
    }
    if (type == 1) {
      for (const auto& a : zone->second.a) {
        put_record(records, current, 1, std::string(a.begin(), a.end()));
        ++count;
      }
    } else if (type == 28) {
      for (const auto& aaaa : zone->second.aaaa) {
        put_record(records, current, 28, std::string(aaaa.begin(), aaaa.end()));
        ++count;
      }
    }
    break;
  }
  std::string out = query.substr(0, 2);
  put16(out, static_cast<std::uint16_t>(0x8180 | rcode));
  put16(out, 1);
  put16(out, static_cast<std::uint16_t>(count));
  put16(out, 0);
  put16(out, 0);
  return out + question + records;
}

// ---- the resolver ----

enum class Mode { kAnswer, kHttp500, kSilent };

class TestResolver {
 public:
  TestResolver(const TestCertificate& certificate, Mode mode) : mode_(mode) {
    tls_.use_certificate_chain(asio::buffer(certificate.cert_pem));
    tls_.use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem);
    zones_["a.test"] = {
        {{192, 0, 2, 10}}, {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}}, ""};
    zones_["alias.test"] = {{}, {}, "mid.test"};
    zones_["mid.test"] = {{}, {}, "a.test"};
    zones_["v4only.test"] = {{{198, 51, 100, 7}}, {}, ""};
    zones_["loopback.test"] = {{{127, 0, 0, 1}}, {}, ""};
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~TestResolver() {
    ioc_.stop();
    thread_.join();
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/dns-query"; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  asio::awaitable<void> accept_loop() {
    while (true) {
      error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++connections_;
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    ssl::stream<tcp::socket> stream(std::move(socket), tls_);
    co_await stream.async_handshake(ssl::stream_base::server, token);
    if (ec) co_return;
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request, token);
      if (ec) co_return;
      ++requests_;
      if (mode_ == Mode::kSilent) {
        asio::steady_timer forever(ioc_, std::chrono::hours(1));
        co_await forever.async_wait(token);
        co_return;
      }
      http::response<http::string_body> response{http::status::ok, 11};
      response.keep_alive(request.keep_alive());
      bool well_formed = request.method() == http::verb::post && request.target() == "/dns-query" &&
                         request[http::field::content_type] == "application/dns-message" &&
                         request[http::field::accept] == "application/dns-message";
      if (mode_ == Mode::kHttp500) {
        response.result(http::status::internal_server_error);
      } else if (!well_formed) {
        response.result(http::status::unsupported_media_type);
      } else {
        response.set(http::field::content_type, "application/dns-message");
        response.body() = answer(request.body(), zones_);
      }
      response.prepare_payload();
      co_await http::async_write(stream, response, token);
      if (ec || !request.keep_alive()) co_return;
    }
  }

  Mode mode_;
  std::map<std::string, Zone> zones_;
  asio::io_context ioc_;
  ssl::context tls_{ssl::context::tls_server};
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

class DohTest : public ::testing::Test {
 protected:
  DohOptions pinned(const TestResolver& resolver) const {
    DohOptions options;
    options.url = resolver.url();
    options.trust.pinned_sha256 = certificate_.fingerprint;
    options.timeout = 10s;
    return options;
  }

  TestCertificate certificate_ = make_certificate();
};

TEST_F(DohTest, ResolvesAAndAaaaOnOneConnection) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  auto result = resolve_doh("a.test", pinned(resolver));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"192.0.2.10", "2001:db8::10"}));
  EXPECT_EQ(resolver.connections(), 1);
  EXPECT_EQ(resolver.requests(), 2);
}

TEST_F(DohTest, ResolvesWithOnlyIpv4Addresses) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  auto result = resolve_doh("V4ONLY.test.", pinned(resolver));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"198.51.100.7"}));
}

TEST_F(DohTest, TrustsACaFileForTheIpAddressAndATlsName) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  std::filesystem::path ca = std::filesystem::temp_directory_path() /
                             ("parley-doh-ca-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(ca) << certificate_.cert_pem;
  DohOptions options;
  options.url = resolver.url();
  options.trust.ca_file = ca.string();
  options.timeout = 10s;
  auto by_ip = resolve_doh("a.test", options);
  EXPECT_TRUE(by_ip.ok()) << by_ip.status().message();

  options.tls_name = "doh.test";
  auto by_name = resolve_doh("a.test", options);
  EXPECT_TRUE(by_name.ok()) << by_name.status().message();

  options.tls_name = "other.test";  // not in the certificate
  auto wrong_name = resolve_doh("a.test", options);
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_EQ(wrong_name.status().code(), ErrorCode::kCertificateUntrusted);
  std::filesystem::remove(ca);
}

TEST_F(DohTest, FollowsCnames) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  auto result = resolve_doh("alias.test", pinned(resolver));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, (std::vector<std::string>{"192.0.2.10", "2001:db8::10"}));
}

TEST_F(DohTest, NxdomainIsNotFound) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  auto result = resolve_doh("missing.test", pinned(resolver));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(result.status().message(), "the name does not exist (NXDOMAIN)");
}

TEST_F(DohTest, PinMismatchIsUntrustedAndSendsNoQuery) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  DohOptions options = pinned(resolver);
  options.trust.pinned_sha256 = make_certificate().fingerprint;
  auto result = resolve_doh("a.test", options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kCertificateUntrusted);
  EXPECT_EQ(resolver.requests(), 0);

  // Without a pin, the system store does not know a self-signed certificate either.
  DohOptions system = pinned(resolver);
  system.trust.pinned_sha256.clear();
  auto unpinned = resolve_doh("a.test", system);
  ASSERT_FALSE(unpinned.ok());
  EXPECT_EQ(unpinned.status().code(), ErrorCode::kCertificateUntrusted);
}

TEST_F(DohTest, ResolverThatNeverAnswersTimesOut) {
  TestResolver resolver(certificate_, Mode::kSilent);
  DohOptions options = pinned(resolver);
  options.timeout = 500ms;
  auto start = std::chrono::steady_clock::now();
  auto result = resolve_doh("a.test", options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kTimeout);
  EXPECT_LT(elapsed, options.timeout + 5s);  // generous slack: a loaded machine
}

TEST_F(DohTest, Http500IsUnavailable) {
  TestResolver resolver(certificate_, Mode::kHttp500);
  auto result = resolve_doh("a.test", pinned(resolver));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(result.status().message().find("HTTP 500"), std::string::npos);
}

TEST_F(DohTest, IpLiteralsAreReturnedWithoutAQuery) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  for (std::string literal : {"192.0.2.1", "2001:db8::1"}) {
    auto result = resolve_doh(literal, pinned(resolver));
    ASSERT_TRUE(result.ok()) << result.status().message();
    EXPECT_EQ(*result, std::vector<std::string>{literal});
  }
  EXPECT_EQ(resolver.connections(), 0);
}

TEST_F(DohTest, RejectsBadUrlsAndNames) {
  DohOptions options;
  options.trust.pinned_sha256 = certificate_.fingerprint;
  for (std::string url :
       {"http://127.0.0.1/dns-query", "127.0.0.1", "https:///dns-query", "https://[::1/x",
        "https://127.0.0.1:0/", "https://127.0.0.1:70000/", "https://user@127.0.0.1/",
        "https://::1/dns-query", "https://bad_host/"}) {
    options.url = url;
    auto result = resolve_doh("a.test", options);
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument) << url;
  }
  options.url = "https://127.0.0.1/dns-query";
  auto bad_name = resolve_doh("not a name", options);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.status().code(), ErrorCode::kInvalidArgument);
}

// The transport manager's dialer resolves a candidate's name over DoH and connects to that
// address, never asking the system resolver (which would not know these names).
TEST_F(DohTest, ACandidateWithDohConnectsToTheResolvedAddress) {
  TestResolver resolver(certificate_, Mode::kAnswer);
  asio::io_context io;
  tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::atomic<int> accepted{0};
  std::thread accepting([&] {
    error_code ec;
    tcp::socket socket(io);
    listener.accept(socket, ec);  // one connection is enough; closing it fails the TLS handshake
    if (!ec) accepted.fetch_add(1);
  });
  TransportSettings settings;
  settings.server = "loopback.test:" + std::to_string(listener.local_endpoint().port());
  settings.trust.pinned_sha256 = std::string(64, '0');
  settings.doh_url = resolver.url();
  settings.doh_trust.pinned_sha256 = certificate_.fingerprint;
  WebSocketChannelOptions base;
  base.connect_timeout = 5s;
  auto candidates = make_candidates(settings, base);
  ASSERT_TRUE(candidates.ok()) << candidates.status().to_string();
  ASSERT_EQ(candidates->size(), 1u);
  ASSERT_TRUE((*candidates)[0].doh.has_value());
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto channel = dial_candidate((*candidates)[0], cancel);
  accepting.join();
  EXPECT_FALSE(channel.ok());  // the listener is no parleyd
  EXPECT_EQ(accepted.load(), 1) << channel.status().to_string();
  EXPECT_EQ(resolver.requests(), 2);  // A and AAAA

  settings.server = "missing.test:443";
  candidates = make_candidates(settings, base);
  ASSERT_TRUE(candidates.ok());
  EXPECT_EQ(dial_candidate((*candidates)[0], cancel).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace parley::net
