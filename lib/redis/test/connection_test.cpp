// SPDX-License-Identifier: AGPL-3.0-or-later
// The private hiredis connection against fake servers (no Redis needed): timeouts, closed
// connections and refused connects become Status values that name the node.
#include "connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::redis::detail {
namespace {

// A listening socket on 127.0.0.1 that never speaks on its own.
class FakeServer {
 public:
  FakeServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    socklen_t size = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
  }
  ~FakeServer() {
    if (accepted_ >= 0) close(accepted_);
    close(fd_);
  }
  NodeAddress address() const { return NodeAddress{"127.0.0.1", port_}; }
  void accept_one() { accepted_ = accept(fd_, nullptr, nullptr); }
  void close_accepted() {
    close(accepted_);
    accepted_ = -1;
  }
  void send(std::string_view bytes) {
    ASSERT_EQ(write(accepted_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

 private:
  int fd_ = -1;
  int accepted_ = -1;
  int port_ = 0;
};

using std::chrono::milliseconds;

TEST(Connection, ReadsReplies) {
  FakeServer server;
  auto connection = Connection::open(server.address(), milliseconds(1000), milliseconds(2000));
  ASSERT_TRUE(connection.ok()) << connection.status().to_string();
  server.accept_one();
  // Replies are read in order; the server answers before being asked, which RESP allows.
  server.send("*2\r\n$3\r\nabc\r\n:7\r\n-MOVED 1 127.0.0.1:7000\r\n");
  auto array = (*connection)->call({"GET", "k"});
  ASSERT_TRUE(array.ok());
  EXPECT_EQ(*array, RedisValue::array({RedisValue::string("abc"), RedisValue::integer(7)}));
  auto error = (*connection)->call({"GET", "k"});
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->error_prefix(), "MOVED");
  EXPECT_FALSE((*connection)->broken());
}

TEST(Connection, SilentServerTimesOut) {
  FakeServer server;
  auto connection = Connection::open(server.address(), milliseconds(1000), milliseconds(100));
  ASSERT_TRUE(connection.ok());
  server.accept_one();
  auto reply = (*connection)->call({"PING"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), ErrorCode::kTimeout);
  EXPECT_NE(reply.status().message().find(server.address().to_string()), std::string::npos);
  EXPECT_TRUE((*connection)->broken());
  // A broken connection is never used again.
  EXPECT_EQ((*connection)->call({"PING"}).status().code(), ErrorCode::kUnavailable);
}

TEST(Connection, ClosedConnectionIsUnavailable) {
  FakeServer server;
  auto connection = Connection::open(server.address(), milliseconds(1000), milliseconds(2000));
  ASSERT_TRUE(connection.ok());
  server.accept_one();
  server.close_accepted();
  // A connection the node closed is an error, not a crash, and is not written to again.
  auto first = (*connection)->call({"PING"});
  EXPECT_EQ(first.status().code(), ErrorCode::kUnavailable);
  (*connection)->append({"PING"});
  EXPECT_FALSE((*connection)->flush().ok());
}

TEST(Connection, MalformedReplyBreaksTheConnection) {
  FakeServer server;
  auto connection = Connection::open(server.address(), milliseconds(1000), milliseconds(2000));
  ASSERT_TRUE(connection.ok());
  server.accept_one();
  server.send("?not resp\r\n");
  auto reply = (*connection)->call({"PING"});
  EXPECT_FALSE(reply.ok());
  EXPECT_TRUE((*connection)->broken());
}

TEST(Connection, RefusedConnectNamesTheNode) {
  // Port 1 on loopback: nothing listens there.
  auto connection =
      Connection::open(NodeAddress{"127.0.0.1", 1}, milliseconds(500), milliseconds(500));
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(connection.status().message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace parley::redis::detail
