// SPDX-License-Identifier: AGPL-3.0-or-later
#include "dropping_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace parley::e2e {

namespace {

struct Pair {
  int client = -1;
  int server = -1;
  std::uint64_t up = 0;    // client -> server bytes
  std::uint64_t down = 0;  // server -> client bytes
  bool frozen = false;     // freeze mode: the server's later bytes are being discarded
};

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void close_pair(Pair& pair) {
  // Both sides see the connection end at once, as when a middlebox resets the flow.
  ::shutdown(pair.client, SHUT_RDWR);
  ::shutdown(pair.server, SHUT_RDWR);
  ::close(pair.client);
  ::close(pair.server);
  pair.client = pair.server = -1;
}

}  // namespace

DroppingProxy::DroppingProxy(std::uint16_t target_port, std::uint64_t limit_bytes, Mode mode)
    : target_port_(target_port), limit_bytes_(limit_bytes), mode_(mode) {}

DroppingProxy::~DroppingProxy() {
  if (thread_.joinable()) {
    char stop = 's';
    [[maybe_unused]] ssize_t ignored = ::write(wake_pipe_[1], &stop, 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_pipe_[0], wake_pipe_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

Status DroppingProxy::start() {
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    return Status::error(ErrorCode::kInternal, "pipe failed");
  }
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::error(ErrorCode::kInternal, "socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    return Status::error(ErrorCode::kInternal, std::string("cannot listen on 127.0.0.1: ") +
                                                   std::generic_category().message(errno));
  }
  socklen_t length = sizeof(address);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
  return Status();
}

void DroppingProxy::run() {
  std::vector<Pair> pairs;
  std::vector<char> buffer(64UL * 1024);
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Pair& pair : pairs) {
      fds.push_back({pair.client, POLLIN, 0});
      fds.push_back({pair.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) break;
    // Only the pairs that were polled have entries in `fds`; one accepted below waits a round.
    const std::size_t polled_pairs = pairs.size();
    if (fds[1].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        int server = connect_loopback(target_port_);
        if (server < 0) {
          ::close(client);
        } else {
          int one = 1;
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          pairs.push_back({client, server, 0, 0, false});
          ++connections_;
        }
      }
    }
    for (std::size_t i = 0; i < polled_pairs; ++i) {
      Pair& pair = pairs[i];
      for (int side = 0; side < 2 && pair.client >= 0; ++side) {
        const pollfd& polled = fds[2 + 2 * i + side];
        if (polled.revents == 0) continue;
        int from = side == 0 ? pair.client : pair.server;
        int to = side == 0 ? pair.server : pair.client;
        std::uint64_t& count = side == 0 ? pair.up : pair.down;
        ssize_t n = ::recv(from, buffer.data(), buffer.size(), 0);
        if (n <= 0) {
          if (n < 0 && errno == EINTR) continue;
          close_pair(pair);
          break;
        }
        auto forward = static_cast<std::uint64_t>(n);
        bool cut = false;
        if (mode_ == Mode::kFreeze) {
          // Only server -> client freezes; what is past the limit vanishes.
          if (side == 1 && limit_bytes_ > 0) {
            std::uint64_t room = count >= limit_bytes_ ? 0 : limit_bytes_ - count;
            if (forward > room) {
              forward = room;
              if (!pair.frozen) ++cuts_;
              pair.frozen = true;
            }
          }
          count += forward;
          if (forward > 0 && !write_all(to, buffer.data(), static_cast<std::size_t>(forward))) {
            close_pair(pair);
            break;
          }
          continue;
        }
        if (limit_bytes_ > 0 && count + forward >= limit_bytes_) {
          forward = limit_bytes_ - count;
          cut = true;
        }
        count += forward;
        bool written = write_all(to, buffer.data(), static_cast<std::size_t>(forward));
        if (cut || !written) {
          if (cut) ++cuts_;
          close_pair(pair);
          break;
        }
      }
    }
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                               [](const Pair& pair) { return pair.client < 0; }),
                pairs.end());
  }
  for (Pair& pair : pairs) {
    if (pair.client >= 0) close_pair(pair);
  }
}

}  // namespace parley::e2e
