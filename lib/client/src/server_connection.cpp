// SPDX-License-Identifier: AGPL-3.0-or-later
#include "server_connection.h"

#include <algorithm>
#include <string>

#include "parley/proto/frame.h"
#include "parley/proto/limits.h"

namespace parley::client {

Status response_status(const wire::Response& response) {
  if (response.status() == 0) return Status();
  auto code = error_code_from_number(response.status());
  std::string message = response.message();
  if (message.empty()) message = "the server refused the request";
  return Status::error(code.value_or(ErrorCode::kInternal), "server: " + message);
}

namespace {

// Waits are cut into slices this long so a stall is noticed while the request timeout runs.
constexpr std::chrono::milliseconds kStallCheckSlice{250};

}  // namespace

ServerConnection::ServerConnection(std::unique_ptr<net::FrameChannel> channel,
                                   ConnectionTimeouts timeouts)
    : channel_(std::move(channel)), timeouts_(timeouts) {
  owe_reply();
}

void ServerConnection::owe_reply() {
  progress_bytes_ = channel_->bytes_received();
  progress_at_ = std::chrono::steady_clock::now();
}

Status ServerConnection::check_stall() {
  if (broken_) return Status::error(ErrorCode::kConnectionClosed, "not connected to the server");
  std::uint64_t bytes = channel_->bytes_received();
  auto now = std::chrono::steady_clock::now();
  if (bytes != progress_bytes_) {
    progress_bytes_ = bytes;
    progress_at_ = now;
    return Status();
  }
  // A channel that counts nothing cannot tell a stall from a quiet server.
  if (bytes == 0 || timeouts_.stall.count() <= 0 || now - progress_at_ < timeouts_.stall) {
    return Status();
  }
  broken_ = true;
  stalled_ = true;
  channel_->abort();
  return Status::error(ErrorCode::kStalled, "the connection stalled: no data from the server for " +
                                                std::to_string(timeouts_.stall.count()) + " ms");
}

Result<wire::Frame> ServerConnection::receive(std::chrono::milliseconds timeout) {
  auto bytes = channel_->receive(timeout);
  if (!bytes.ok()) {
    if (bytes.status().code() != ErrorCode::kTimeout) broken_ = true;
    return bytes.status();
  }
  frames_ += 1;
  auto frame = proto::decode_server_frame(*bytes, proto::Limits{});
  if (!frame.ok()) {
    broken_ = true;
    channel_->close();
    return Status::error(
        ErrorCode::kProtocolViolation,
        "the server sent a frame this client cannot read: " + frame.status().message());
  }
  return frame;
}

Result<wire::Response> ServerConnection::call_raw(wire::Request request) {
  if (broken_) return Status::error(ErrorCode::kConnectionClosed, "not connected to the server");
  std::uint64_t id = next_id_++;
  request.set_id(id);
  Bytes frame = proto::encode_frame(proto::request_frame(std::move(request)));
  if (Status sent = channel_->send(frame); !sent.ok()) {
    broken_ = true;
    return sent;
  }
  owe_reply();
  auto deadline = std::chrono::steady_clock::now() + timeouts_.request;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      // A response that never comes leaves request ids out of step: give the connection up,
      // without a close handshake the server would not answer either.
      broken_ = true;
      channel_->abort();
      return Status::error(ErrorCode::kTimeout, "the server did not answer in time");
    }
    auto received = receive(std::min(left, kStallCheckSlice));
    if (!received.ok()) {
      if (received.status().code() != ErrorCode::kTimeout) return received.status();
      PARLEY_RETURN_IF_ERROR(check_stall());
      continue;
    }
    wire::Frame got = std::move(*received);
    if (got.has_push()) {
      pushes_.push_back(std::move(*got.mutable_push()));
      continue;
    }
    if (!got.has_response()) continue;
    const wire::Response& response = got.response();
    if (response.id() == id) return std::move(*got.mutable_response());
    if (response.id() == 0 && response.status() != 0) {
      // The server could not read our request and is closing the connection.
      broken_ = true;
      return response_status(response);
    }
    // A response to an earlier request we gave up on: ignore it.
  }
}

Status ServerConnection::post(wire::Request request) {
  if (broken_) return Status::error(ErrorCode::kConnectionClosed, "not connected to the server");
  request.set_id(next_id_++);
  Bytes frame = proto::encode_frame(proto::request_frame(std::move(request)));
  if (Status sent = channel_->send(frame); !sent.ok()) {
    broken_ = true;
    return sent;
  }
  return Status();
}

Result<wire::Response> ServerConnection::call(wire::Request request) {
  PARLEY_ASSIGN_OR_RETURN(wire::Response response, call_raw(std::move(request)));
  PARLEY_RETURN_IF_ERROR(response_status(response));
  return response;
}

Result<wire::Push> ServerConnection::next_push(std::chrono::milliseconds timeout) {
  if (!pushes_.empty()) {
    wire::Push push = std::move(pushes_.front());
    pushes_.pop_front();
    return push;
  }
  if (broken_) return Status::error(ErrorCode::kConnectionClosed, "not connected to the server");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    PARLEY_ASSIGN_OR_RETURN(wire::Frame got, receive(left));
    if (got.has_push()) return std::move(*got.mutable_push());
    if (got.has_response() && got.response().id() == 0 && got.response().status() != 0) {
      broken_ = true;
      return response_status(got.response());
    }
    if (left.count() == 0) return Status::error(ErrorCode::kTimeout, "no push");
  }
}

void ServerConnection::close() {
  if (channel_) channel_->close();
  broken_ = true;
}

}  // namespace parley::client
