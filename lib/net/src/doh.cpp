// SPDX-License-Identifier: AGPL-3.0-or-later
//
// DNS over HTTPS (RFC 8484) with Boost.Beast: one HTTPS connection to the resolver, the A query
// then the AAAA query POSTed on it (HTTP/1.1 keep-alive; a second connection only when the
// resolver closes after the first answer), each answer checked by parse_dns_answer().
//
// Deadline. The whole exchange is one coroutine on a private io_context that runs for at most
// options.timeout (io_context::run_for). If the coroutine has not finished by then the lookup is
// kTimeout and the io_context is destroyed with the coroutine still suspended: its frame (socket,
// TLS stream, buffers) is destroyed, never resumed. Everything the coroutine references is
// declared before the io_context, so it outlives the frame.
//
// Trust is decided as in websocket_channel.cpp: a SHA-256 pin of the leaf certificate (checked
// before the query is sent), else a CA file, else the system store, with the name (or IP
// address) verified in the certificate.
//
// This is the layer's second Beast translation unit: keep the distinct async operations few
// (resolve, connect, handshake, one write and one read type).

#include "parley/net/doh.h"

// clang-format off
#include <utility>  // before Asio: Boost 1.74's headers need std::exchange declared (GCC 12)
// clang-format on

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <filesystem>
#include <optional>

#include "channel_text.h"
#include "fingerprint.h"
#include "tls_trust.h"

namespace parley::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Stream = ssl::stream<tcp::socket>;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint64_t kMaxAnswerBytes = 64ULL * 1024;
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr const char* kDnsMessage = "application/dns-message";

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

struct DohUrl {
  std::string host;  // without brackets
  std::uint16_t port = 443;
  std::string path;
  std::string authority;  // for the Host header and messages: "host", "[v6]" or with ":port"
};

Status bad_url(const std::string& why) {
  return Status::error(ErrorCode::kInvalidArgument, "the DNS-over-HTTPS URL " + why);
}

Result<DohUrl> parse_doh_url(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() || !iequals(std::string_view(url).substr(0, 8), kScheme)) {
    return bad_url("must start with https://");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view("/") : rest.substr(end);
  if (path.front() != '/') return bad_url("must have a path, not a query or fragment");
  if (path.find('#') != std::string_view::npos) return bad_url("must not have a fragment");
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad_url("has a bad path");
  }
  if (authority.find('@') != std::string_view::npos) return bad_url("must not hold a user name");

  DohUrl parsed;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("has an unclosed [");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("has text after ]");
      port_text = after.substr(1);
      if (port_text.empty()) return bad_url("has an empty port");
    }
    error_code ec;
    asio::ip::make_address_v6(parsed.host, ec);
    if (ec) return bad_url("has a bad IPv6 address");
  } else {
    std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad_url("has an empty port");
      authority = authority.substr(0, colon);
    }
    parsed.host = std::string(authority);
    if (parsed.host.find(':') != std::string::npos) return bad_url("needs [] around IPv6");
  }
  if (parsed.host.empty()) return bad_url("has no host");
  if (!is_ip_literal(parsed.host) && dns_query(parsed.host, 0, kTypeA).empty()) {
    return bad_url("has a host that is not a host name or IP address");
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port_text.size() > 5) return bad_url("has a bad port");
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return bad_url("has a bad port");
    parsed.port = static_cast<std::uint16_t>(port);
  }
  parsed.path = std::string(path);
  std::string host_text =
      parsed.host.find(':') != std::string::npos ? "[" + parsed.host + "]" : parsed.host;
  parsed.authority = parsed.port == 443 ? host_text : host_text + ":" + std::to_string(parsed.port);
  return parsed;
}

Result<std::uint16_t> random_id() {
  unsigned char bytes[2];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Status::error(ErrorCode::kRandomFailure, "openssl: RAND_bytes failed");
  }
  return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

// One lookup: the state the coroutine works on. Declared before the io_context (see the top).
class DohLookup {
 public:
  DohLookup(const DohOptions& options, DohUrl url, Bytes pin)
      : options_(options), url_(std::move(url)), pin_(std::move(pin)) {}

  Result<std::vector<std::string>> run(const std::string& name) {
    PARLEY_RETURN_IF_ERROR(configure_tls());
    PARLEY_ASSIGN_OR_RETURN(std::uint16_t id_a, random_id());
    PARLEY_ASSIGN_OR_RETURN(std::uint16_t id_aaaa, random_id());
    queries_[0] = {id_a, kTypeA};
    queries_[1] = {id_aaaa, kTypeAaaa};
    name_ = name;

    asio::io_context ioc;  // after everything the coroutine uses: destroyed first
    bool finished = false;
    asio::co_spawn(ioc, exchange(), [&finished, this](const std::exception_ptr& error) {
      finished = true;
      if (error) status_ = Status::error(ErrorCode::kInternal, "the DoH lookup failed (exception)");
    });
    ioc.run_for(options_.timeout);
    if (!finished) {
      return Status::error(ErrorCode::kTimeout, "the DNS-over-HTTPS resolver " + url_.authority +
                                                    " did not answer within " +
                                                    millis_text(options_.timeout) +
                                                    " (stopped while " + stage_ + ")");
    }
    PARLEY_RETURN_IF_ERROR(status_);
    return combine();
  }

 private:
  struct Query {
    std::uint16_t id = 0;
    std::uint16_t type = 0;
  };

  Status configure_tls() {
    SSL_CTX* ctx = tls_.native_handle();
    // TLS 1.3 when the resolver has it; 1.2 is accepted because some resolvers still lack 1.3.
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return Status::error(ErrorCode::kInternal, "openssl: cannot require TLS 1.2");
    }
    // A pin is compared with the leaf after the handshake, before a byte of ours is sent.
    return configure_trust(ctx, options_.trust, !pin_.empty());
  }

  Status failed(error_code ec, const std::string& what) const {
    return Status::error(ErrorCode::kUnavailable, what + " the DNS-over-HTTPS resolver " +
                                                      url_.authority + ": " + ec.message());
  }

  // Resolves (an IP literal without DNS), connects and completes the TLS handshake with the
  // certificate checked. Sets status_ and returns false on failure.
  asio::awaitable<bool> open(std::optional<Stream>& stream) {
    auto executor = co_await asio::this_coro::executor;
    error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    const bool ip = is_ip_literal(url_.host);

    stage_ = "resolving the resolver's host name";
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(
        url_.host, std::to_string(url_.port),
        ip ? tcp::resolver::numeric_host : tcp::resolver::flags{}, token);
    if (ec) {
      status_ = failed(ec, "cannot resolve");
      co_return false;
    }
    stream.emplace(executor, tls_);
    stage_ = "connecting over TCP";
    co_await asio::async_connect(stream->next_layer(), endpoints, token);
    if (ec) {
      status_ = failed(ec, "cannot connect to");
      co_return false;
    }
    error_code ignored;
    stream->next_layer().set_option(tcp::no_delay(true), ignored);

    SSL* ssl = stream->native_handle();
    // SNI carries host names only (RFC 6066 §3); tls_name names the resolver behind an IP.
    std::string tls_name = !options_.tls_name.empty() ? options_.tls_name
                           : ip                       ? std::string()
                                                      : url_.host;
    if (!tls_name.empty() && SSL_set_tlsext_host_name(ssl, tls_name.c_str()) != 1) {
      status_ = Status::error(ErrorCode::kInvalidArgument, "the TLS name is not valid");
      co_return false;
    }
    static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn);
    if (pin_.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int set = !tls_name.empty() ? X509_VERIFY_PARAM_set1_host(param, tls_name.c_str(), 0)
                                  : X509_VERIFY_PARAM_set1_ip_asc(param, url_.host.c_str());
      if (set != 1) {
        status_ = Status::error(ErrorCode::kInvalidArgument,
                                "cannot verify certificates for " + url_.authority);
        co_return false;
      }
    }
    stage_ = "in the TLS handshake";
    co_await stream->async_handshake(ssl::stream_base::client, token);
    if (ec) {
      long verify = SSL_get_verify_result(ssl);
      if (pin_.empty() && verify != X509_V_OK) {
        status_ = Status::error(ErrorCode::kCertificateUntrusted,
                                "the certificate of the DNS-over-HTTPS resolver " + url_.authority +
                                    " is not trusted: " + X509_verify_cert_error_string(verify));
      } else {
        status_ = failed(ec, "the TLS handshake failed with");
      }
      co_return false;
    }
    if (!pin_.empty()) {
      status_ = check_pin(ssl);
      if (!status_.ok()) co_return false;
    }
    co_return true;
  }

  Status check_pin(SSL* ssl) const {
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr) {
      return Status::error(
          ErrorCode::kCertificateUntrusted,
          "the DNS-over-HTTPS resolver " + url_.authority + " sent no certificate");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(leaf, EVP_sha256(), digest, &size) != 1 || size != kSha256Bytes) {
      return Status::error(ErrorCode::kInternal, "openssl: cannot hash the certificate");
    }
    if (CRYPTO_memcmp(digest, pin_.data(), kSha256Bytes) != 0) {
      return Status::error(ErrorCode::kCertificateUntrusted,
                           "the certificate fingerprint of the DNS-over-HTTPS resolver " +
                               url_.authority + ", " +
                               format_sha256_fingerprint(ByteView(digest, size)) +
                               ", does not match the pinned one");
    }
    return {};
  }

  asio::awaitable<void> exchange() {
    error_code ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    std::optional<Stream> stream;
    beast::flat_buffer buffer;
    bool connected = false;
    for (std::size_t i = 0; i < queries_.size(); ++i) {
      if (!connected) {
        buffer.clear();
        if (!co_await open(stream)) co_return;
        connected = true;
      }
      http::request<http::vector_body<std::uint8_t>> request{http::verb::post, url_.path, 11};
      request.set(http::field::host, url_.authority);
      request.set(http::field::content_type, kDnsMessage);
      request.set(http::field::accept, kDnsMessage);
      request.keep_alive(true);
      request.body() = dns_query(name_, queries_[i].id, queries_[i].type);
      request.prepare_payload();
      stage_ = "sending the query";
      co_await http::async_write(*stream, request, token);
      if (ec) {
        status_ = failed(ec, "cannot send the query to");
        co_return;
      }

      stage_ = "waiting for the answer";
      http::response_parser<http::vector_body<std::uint8_t>> parser;
      parser.header_limit(kMaxHeaderBytes);
      parser.body_limit(kMaxAnswerBytes);
      co_await http::async_read(*stream, buffer, parser, token);
      if (ec == http::error::body_limit) {
        status_ = Status::error(ErrorCode::kProtocolViolation,
                                "the DNS-over-HTTPS answer is larger than 64 KiB");
        co_return;
      }
      if (ec) {
        status_ = failed(ec, "cannot read the answer from");
        co_return;
      }
      const auto& response = parser.get();
      if (response.result() != http::status::ok) {
        status_ = Status::error(ErrorCode::kUnavailable, "the DNS-over-HTTPS resolver " +
                                                             url_.authority + " answered HTTP " +
                                                             std::to_string(response.result_int()));
        co_return;
      }
      auto content_type = response.find(http::field::content_type);
      if (content_type != response.end()) {
        std::string_view media(content_type->value().data(), content_type->value().size());
        media = media.substr(0, media.find(';'));
        while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
        if (!iequals(media, kDnsMessage)) {
          status_ = Status::error(ErrorCode::kProtocolViolation,
                                  "the DNS-over-HTTPS answer is not an application/dns-message");
          co_return;
        }
      }
      answers_[i] = parse_dns_answer(response.body(), queries_[i].id, name_, queries_[i].type);
      if (!response.keep_alive()) {
        error_code ignored;
        stream->next_layer().close(ignored);
        connected = false;
      }
    }
    // No TLS close_notify: the connection is dropped with the io_context; nothing more to read.
  }

  // A and AAAA together: the A error decides when neither has an address (NXDOMAIN is reported
  // by both). A failed AAAA query (RCODE) does not hide working IPv4 addresses, but an answer
  // that breaks the protocol always fails the lookup.
  Result<std::vector<std::string>> combine() {
    std::vector<std::string> addresses;
    for (auto& answer : answers_) {
      if (!answer) return Status::error(ErrorCode::kInternal, "a DoH query was not answered");
      if (answer->ok()) {
        addresses.insert(addresses.end(), answer->value().begin(), answer->value().end());
      } else if (answer->status().code() != ErrorCode::kNotFound &&
                 answer->status().code() != ErrorCode::kUnavailable) {
        return answer->status();
      }
    }
    if (!addresses.empty()) return addresses;
    return answers_[0]->ok() ? answers_[1]->status() : answers_[0]->status();
  }

  const DohOptions& options_;
  DohUrl url_;
  Bytes pin_;
  ssl::context tls_{ssl::context::tls_client};
  std::string name_;
  std::array<Query, 2> queries_{};
  std::array<std::optional<Result<std::vector<std::string>>>, 2> answers_;
  Status status_;
  std::string stage_ = "starting";
};

}  // namespace

Result<std::vector<std::string>> resolve_doh(const std::string& name, const DohOptions& options) {
  if (is_ip_literal(name)) return std::vector<std::string>{name};
  if (dns_query(name, 0, kTypeA).empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "the name to resolve is not a host name");
  }
  PARLEY_ASSIGN_OR_RETURN(DohUrl url, parse_doh_url(options.url));
  Bytes pin;
  if (!options.trust.pinned_sha256.empty()) {
    PARLEY_ASSIGN_OR_RETURN(pin, parse_pinned_sha256(options.trust.pinned_sha256));
  }
  if (options.timeout.count() <= 0) {
    return Status::error(ErrorCode::kInvalidArgument, "the DoH timeout must be positive");
  }
  try {
    DohLookup lookup(options, std::move(url), std::move(pin));
    return lookup.run(name);
  } catch (const std::exception&) {
    // Asio reports a failure to create its context or threads by throwing.
    return Status::error(ErrorCode::kInternal, "the DoH lookup failed (exception)");
  }
}

}  // namespace parley::net
