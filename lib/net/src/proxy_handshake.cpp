// SPDX-License-Identifier: AGPL-3.0-or-later
#include "proxy_handshake.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "channel_text.h"
#include "parley/util/encoding.h"

namespace parley::net {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// A proxy's HTTP response head larger than this is refused.
constexpr std::size_t kMaxProxyHeadBytes = 8192;

}  // namespace

ProxyHandshake::ProxyHandshake(CountingSocket& socket, const ProxyConfig& proxy,
                               std::string target_host, std::uint16_t target_port,
                               std::string& stage, IoFailed io_failed, Done done)
    : socket_(socket),
      proxy_(proxy),
      target_host_(std::move(target_host)),
      target_port_(target_port),
      target_(authority(target_host_, target_port_)),
      proxy_endpoint_(authority(proxy.host, proxy.port)),
      stage_(stage),
      io_failed_(std::move(io_failed)),
      done_(std::move(done)) {}

void ProxyHandshake::start() {
  if (proxy_.kind == ProxyKind::kSocks5) return start_socks5();
  start_http_connect();
}

// Writes proxy_out_, then runs `next`.
void ProxyHandshake::proxy_write(Step next) {
  asio::async_write(socket_, asio::buffer(proxy_out_), [this, next](error_code ec, std::size_t) {
    if (ec) {
      return done_(io_failed_(
          ec, "the connection to the proxy " + proxy_endpoint_ + " failed while writing"));
    }
    (this->*next)();
  });
}

// Reads exactly `size` bytes into proxy_in_, then runs `next`.
void ProxyHandshake::proxy_read(std::size_t size, Step next) {
  proxy_in_.assign(size, 0);
  asio::async_read(socket_, asio::buffer(proxy_in_), [this, next](error_code ec, std::size_t) {
    if (ec) {
      return done_(io_failed_(
          ec, "the proxy " + proxy_endpoint_ +
                  (ec == asio::error::eof ? " closed the connection" : " failed while answering")));
    }
    (this->*next)();
  });
}

Status ProxyHandshake::proxy_error(const std::string& what) const {
  return Status::error(ErrorCode::kProxyFailed, what);
}

// The socket now reaches the target (the relay or parleyd).
void ProxyHandshake::tunnel_ready() {
  done_({});
}

// ---- SOCKS5 (RFC 1928, RFC 1929) ----

void ProxyHandshake::start_socks5() {
  stage_ = "in the SOCKS5 handshake";
  // Offer user/password only when we have them: some proxies pick it whenever it is offered.
  if (proxy_.username.empty()) {
    proxy_out_ = {5, 1, 0};
  } else {
    proxy_out_ = {5, 2, 0, 2};
  }
  proxy_write(&ProxyHandshake::socks5_read_method);
}

void ProxyHandshake::socks5_read_method() {
  proxy_read(2, &ProxyHandshake::socks5_on_method);
}

void ProxyHandshake::socks5_on_method() {
  if (proxy_in_[0] != 5) {
    return done_(proxy_error("the proxy " + proxy_endpoint_ + " does not speak SOCKS5"));
  }
  const std::uint8_t method = proxy_in_[1];
  if (method == 0) return socks5_send_connect();
  if (method == 2 && !proxy_.username.empty()) {
    const std::string& user = proxy_.username;
    const std::string& password = proxy_.password;
    proxy_out_.clear();
    proxy_out_.push_back(1);
    proxy_out_.push_back(static_cast<std::uint8_t>(user.size()));
    proxy_out_.insert(proxy_out_.end(), user.begin(), user.end());
    proxy_out_.push_back(static_cast<std::uint8_t>(password.size()));
    proxy_out_.insert(proxy_out_.end(), password.begin(), password.end());
    return proxy_write(&ProxyHandshake::socks5_read_auth);
  }
  if (proxy_.username.empty()) {
    return done_(proxy_error("the SOCKS5 proxy " + proxy_endpoint_ +
                             " requires authentication (set a user name and password)"));
  }
  return done_(proxy_error("the SOCKS5 proxy " + proxy_endpoint_ +
                           " accepts none of our authentication methods"));
}

void ProxyHandshake::socks5_read_auth() {
  proxy_read(2, &ProxyHandshake::socks5_on_auth);
}

void ProxyHandshake::socks5_on_auth() {
  if (proxy_in_[1] != 0) {
    return done_(proxy_error("authentication with the SOCKS5 proxy " + proxy_endpoint_ +
                             " failed (wrong user name or password)"));
  }
  socks5_send_connect();
}

void ProxyHandshake::socks5_send_connect() {
  stage_ = "asking the SOCKS5 proxy to connect";
  proxy_out_ = {5, 1, 0};
  error_code ec;
  asio::ip::address address = asio::ip::make_address(target_host_, ec);
  if (!ec && address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    proxy_out_.push_back(1);
    proxy_out_.insert(proxy_out_.end(), bytes.begin(), bytes.end());
  } else if (!ec && address.is_v6()) {
    auto bytes = address.to_v6().to_bytes();
    proxy_out_.push_back(4);
    proxy_out_.insert(proxy_out_.end(), bytes.begin(), bytes.end());
  } else {
    // The name itself: the proxy resolves it (remote DNS), we send no DNS query.
    proxy_out_.push_back(3);
    proxy_out_.push_back(static_cast<std::uint8_t>(target_host_.size()));
    proxy_out_.insert(proxy_out_.end(), target_host_.begin(), target_host_.end());
  }
  proxy_out_.push_back(static_cast<std::uint8_t>(target_port_ >> 8));
  proxy_out_.push_back(static_cast<std::uint8_t>(target_port_ & 0xff));
  proxy_write(&ProxyHandshake::socks5_read_reply);
}

void ProxyHandshake::socks5_read_reply() {
  proxy_read(4, &ProxyHandshake::socks5_on_reply);
}

void ProxyHandshake::socks5_on_reply() {
  if (proxy_in_[0] != 5) {
    return done_(proxy_error("the proxy " + proxy_endpoint_ + " sent a malformed SOCKS5 reply"));
  }
  const unsigned reply = proxy_in_[1];
  if (reply != 0) {
    return done_(proxy_error("the SOCKS5 proxy " + proxy_endpoint_ + " refused the connection to " +
                             target_ + ": " + socks5_reply_text(reply) + " (reply " +
                             std::to_string(reply) + ")"));
  }
  // The bound address follows; its length depends on its type.
  switch (proxy_in_[3]) {
    case 1:
      return proxy_read(4 + 2, &ProxyHandshake::tunnel_ready);
    case 4:
      return proxy_read(16 + 2, &ProxyHandshake::tunnel_ready);
    case 3:
      return proxy_read(1, &ProxyHandshake::socks5_read_bound_name);
    default:
      return done_(proxy_error("the proxy " + proxy_endpoint_ + " sent a malformed SOCKS5 reply"));
  }
}

void ProxyHandshake::socks5_read_bound_name() {
  proxy_read(std::size_t{proxy_in_[0]} + 2, &ProxyHandshake::tunnel_ready);
}

// ---- HTTP CONNECT (RFC 9110 §9.3.6) ----

void ProxyHandshake::start_http_connect() {
  stage_ = "asking the HTTP proxy to connect";
  std::string request = "CONNECT " + target_ + " HTTP/1.1\r\nHost: " + target_ + "\r\n";
  if (!proxy_.username.empty()) {
    std::string credentials = proxy_.username + ":" + proxy_.password;
    request += "Proxy-Authorization: Basic " +
               base64_encode(ByteView(reinterpret_cast<const std::uint8_t*>(credentials.data()),
                                      credentials.size())) +
               "\r\n";
  }
  request += "\r\n";
  proxy_out_.assign(request.begin(), request.end());
  proxy_head_.clear();
  proxy_write(&ProxyHandshake::http_connect_read);
}

void ProxyHandshake::http_connect_read() {
  proxy_in_.assign(1024, 0);
  socket_.async_read_some(asio::buffer(proxy_in_), [this](error_code ec, std::size_t size) {
    if (ec) {
      return done_(io_failed_(
          ec, "the HTTP proxy " + proxy_endpoint_ +
                  (ec == asio::error::eof ? " closed the connection" : " failed while answering")));
    }
    proxy_head_.append(reinterpret_cast<const char*>(proxy_in_.data()), size);
    std::size_t end = proxy_head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (proxy_head_.size() > kMaxProxyHeadBytes) {
        return done_(
            proxy_error("the HTTP proxy " + proxy_endpoint_ + " sent an oversized answer"));
      }
      return http_connect_read();
    }
    http_connect_on_head(end + 4);
  });
}

void ProxyHandshake::http_connect_on_head(std::size_t head_bytes) {
  // "HTTP/1.1 200 Connection established"
  const std::string& head = proxy_head_;
  unsigned status = 0;
  if (head.size() >= 12 && head.compare(0, 5, "HTTP/") == 0) {
    std::size_t space = head.find(' ');
    if (space != std::string::npos && space + 4 <= head.size()) {
      for (std::size_t i = space + 1; i < space + 4; ++i) {
        if (head[i] < '0' || head[i] > '9') {
          status = 0;
          break;
        }
        status = status * 10 + static_cast<unsigned>(head[i] - '0');
      }
    }
  }
  if (status == 0) {
    return done_(
        proxy_error("the proxy " + proxy_endpoint_ + " did not answer like an HTTP proxy"));
  }
  // 407 per RFC 9110; tinyproxy answers 401 to a wrong Proxy-Authorization.
  if (status == 407 || status == 401) {
    return done_(proxy_error(proxy_.username.empty()
                                 ? "the HTTP proxy " + proxy_endpoint_ +
                                       " requires authentication (set a user name and password)"
                                 : "authentication with the HTTP proxy " + proxy_endpoint_ +
                                       " failed (wrong user name or password)"));
  }
  if (status < 200 || status > 299) {
    return done_(proxy_error("the HTTP proxy " + proxy_endpoint_ + " refused the connection to " +
                             target_ + " (HTTP " + std::to_string(status) + ")"));
  }
  if (head_bytes != proxy_head_.size()) {
    // Neither parleyd nor a relay speaks first: bytes here are the proxy's, not the tunnel's.
    return done_(
        proxy_error("the HTTP proxy " + proxy_endpoint_ + " sent data before the tunnel was used"));
  }
  tunnel_ready();
}

}  // namespace parley::net
