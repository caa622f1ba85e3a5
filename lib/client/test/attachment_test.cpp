// SPDX-License-Identifier: AGPL-3.0-or-later
//
// Attachments through the whole client core against the real server core (in-process): a file
// arrives byte-identical at the recipient and at the sender's other device; uploads and
// downloads cut off by a vanished network (or a restart) resume from what was acknowledged
// instead of starting over; a blob that expired on the server gives a clear error, as does a
// blob changed on the way; and no transfer ever leaves plaintext in the download directory unless
// it verified.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "assert_ok.h"
#include "loopback_server.h"
#include "parley/client/client.h"
#include "parley/crypto/random.h"
#include "parley/util/encoding.h"
#include "parley/wire/frame.pb.h"
#include "temp_home.h"

namespace parley::client {
namespace {

using ::testing::HasSubstr;
using testing::LoopbackServer;
using testing::TempHome;

// What went over the wire, seen between the client and the loopback server; and two ways to
// interfere: refuse downloads (as a network that fails), or change one downloaded chunk.
struct Wiretap {
  std::mutex mutex;
  std::uint64_t uploaded_bytes = 0;
  std::uint64_t downloaded_bytes = 0;
  std::vector<std::uint64_t> upload_offsets;
  int download_responses = 0;
  int tamper_download_response = 0;  // 1-based; 0: none
  bool block_downloads = false;
};

class TappedChannel final : public net::FrameChannel {
 public:
  TappedChannel(std::unique_ptr<net::FrameChannel> inner, Wiretap& tap)
      : inner_(std::move(inner)), tap_(tap) {}

  Status send(ByteView frame) override {
    wire::Frame parsed;
    if (parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size())) &&
        parsed.has_request()) {
      std::lock_guard lock(tap_.mutex);
      const wire::Request& request = parsed.request();
      if (request.has_upload_attachment_chunk()) {
        tap_.uploaded_bytes += request.upload_attachment_chunk().data().size();
        tap_.upload_offsets.push_back(request.upload_attachment_chunk().offset());
      }
      if (request.has_download_attachment_chunk() && tap_.block_downloads) {
        inner_->close();
        return Status::error(ErrorCode::kConnectionClosed, "downloads are blocked");
      }
    }
    return inner_->send(frame);
  }

  Result<Bytes> receive(std::chrono::milliseconds timeout) override {
    PARLEY_ASSIGN_OR_RETURN(Bytes frame, inner_->receive(timeout));
    wire::Frame parsed;
    if (!parsed.ParseFromArray(frame.data(), static_cast<int>(frame.size())) ||
        !parsed.has_response() || !parsed.response().has_download_attachment_chunk()) {
      return frame;
    }
    std::lock_guard lock(tap_.mutex);
    auto* chunk = parsed.mutable_response()->mutable_download_attachment_chunk();
    tap_.downloaded_bytes += chunk->data().size();
    if (++tap_.download_responses == tap_.tamper_download_response && !chunk->data().empty()) {
      (*chunk->mutable_data())[0] ^= 0x01;  // as a hostile server or a broken disk would
      return to_bytes(parsed.SerializeAsString());
    }
    return frame;
  }

  void close() override { inner_->close(); }

 private:
  std::unique_ptr<net::FrameChannel> inner_;
  Wiretap& tap_;
};

Connector tapped(LoopbackServer& server, Wiretap& tap) {
  Connector inner = server.connector();
  return [inner, &tap](const std::string& where,
                       const net::TlsTrust& trust) -> Result<std::unique_ptr<net::FrameChannel>> {
    PARLEY_ASSIGN_OR_RETURN(auto channel, inner(where, trust));
    return std::unique_ptr<net::FrameChannel>(
        std::make_unique<TappedChannel>(std::move(channel), tap));
  };
}

// One device: a home, a download directory, a Client, its events and transfer progress.
class Device {
 public:
  Device(LoopbackServer& server, const Clock* clock = nullptr)
      : server_(server), clock_(clock), connector_(tapped(server, tap_)) {
    reopen();
  }
  void reopen() {
    client_.reset();
    ClientOptions options;
    options.home = home_.path();
    options.clock = clock_;
    options.connector = connector_;
    options.prekey_batch = 20;
    auto opened = Client::open(std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    client_ = std::move(*opened);
    client_->set_event_handler([this](const Event& event) { events_.push_back(event); });
    client_->set_download_dir(downloads());
    client_->set_transfer_progress_handler([this](const TransferProgress& progress) {
      progress_.push_back(progress);
      if (on_progress) on_progress(progress);
    });
  }
  Client& operator*() { return *client_; }
  Client* operator->() { return client_.get(); }
  std::vector<Event>& events() { return events_; }
  std::vector<TransferProgress>& progress() { return progress_; }
  std::vector<Event> of_kind(Event::Kind kind) const {
    std::vector<Event> out;
    for (const auto& event : events_) {
      if (event.kind == kind) out.push_back(event);
    }
    return out;
  }
  std::filesystem::path downloads() const { return home_.path() / "received"; }
  const TempHome& home() const { return home_; }
  Wiretap& tap() { return tap_; }
  std::function<void(const TransferProgress&)> on_progress;

 private:
  LoopbackServer& server_;
  const Clock* clock_;
  Wiretap tap_;
  Connector connector_;
  TempHome home_;
  std::unique_ptr<Client> client_;
  std::vector<Event> events_;
  std::vector<TransferProgress> progress_;
};

ServerSettings loopback_settings() {
  return {"loopback:1", {}, {}};
}

void sign_up(Device& device, const std::string& name) {
  Status created = device->create_account(loopback_settings(), name, nullptr);
  ASSERT_TRUE(created.ok()) << created.to_string();
}

void link(Device& primary, Device& second) {
  auto code = primary->create_link_code();
  ASSERT_TRUE(code.ok()) << code.status().to_string();
  Result<std::uint32_t> linked = Status::error(ErrorCode::kInternal, "not run");
  std::thread waiter([&] { linked = primary->wait_for_link(*code, std::chrono::seconds(20)); });
  Status joined = second->join_device(loopback_settings(), code->text, std::chrono::seconds(20));
  waiter.join();
  ASSERT_TRUE(joined.ok()) << joined.to_string();
  ASSERT_TRUE(linked.ok()) << linked.status().to_string();
}

// A file of random bytes with a known marker inside, so that a plaintext copy can be searched.
std::string make_file(const std::filesystem::path& path, std::size_t size,
                      const std::string& marker) {
  Bytes random = crypto::random_bytes(size);
  std::string content(random.begin(), random.end());
  if (size >= marker.size() * 2) content.replace(size / 2, marker.size(), marker);
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return content;
}

// Regular files under `dir` (recursively).
std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

constexpr std::size_t kFileSize = 300 * 1024 + 123;  // several secretstream and transfer chunks

TEST(AttachmentTest, ArrivesByteIdenticalAtTheRecipientAndTheSendersOtherDevice) {
  LoopbackServer server;
  Device alice(server), alice2(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  link(alice, alice2);
  TempHome source;
  const std::string marker = "attachment-marker-" + hex_encode(crypto::random_bytes(8));
  std::string content = make_file(source / "holiday photo.jpg", kFileSize, marker);

  auto id = alice->queue_file("bob", source / "holiday photo.jpg", "the view");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  // Encrypted once into the home: the source may change or go away from now on.
  std::filesystem::remove(source / "holiday photo.jpg");
  ASSERT_OK(alice->flush());
  EXPECT_EQ(*alice->outbox_size(), 0u);
  EXPECT_TRUE(files_in(alice.home() / "attachments").empty()) << "the encrypted copy stays";
  ASSERT_FALSE(alice.progress().empty());
  EXPECT_TRUE(alice.progress().back().upload);
  EXPECT_EQ(alice.progress().back().done_bytes, alice.progress().back().total_bytes);
  EXPECT_EQ(alice.progress().back().client_message_id_hex, *id);
  EXPECT_EQ(alice.of_kind(Event::Kind::kSent).size(), 1u);

  ASSERT_OK(bob->sync());
  auto messages = bob.of_kind(Event::Kind::kMessage);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body, "the view");
  EXPECT_EQ(messages[0].file_name, "holiday photo.jpg");
  EXPECT_EQ(messages[0].file_size, kFileSize);
  auto received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].peer_username, "alice");
  EXPECT_EQ(received[0].client_message_id_hex, *id);
  EXPECT_EQ(std::filesystem::path(received[0].body), bob.downloads() / "holiday photo.jpg");
  EXPECT_EQ(testing::file_bytes(received[0].body), content);
  EXPECT_EQ(files_in(bob.downloads()).size(), 1u) << "partial files are cleaned up";
  auto view = bob->attachment("alice", *id);
  ASSERT_TRUE(view.ok() && view->has_value()) << view.status().to_string();
  EXPECT_EQ((*view)->state, AttachmentView::State::kDone);
  EXPECT_EQ((*view)->local_path, received[0].body);
  EXPECT_EQ((*view)->size, kFileSize);
  EXPECT_EQ((*view)->content_type, "image/jpeg");

  // Alice's other device learns of the file from the transcript and fetches it too.
  ASSERT_OK(alice2->sync());
  auto own = alice2.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_TRUE(own[0].outgoing);
  EXPECT_EQ(own[0].peer_username, "bob");
  EXPECT_EQ(testing::file_bytes(own[0].body), content);
  auto history = alice2->history("bob", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].body, "the view");

  // The sender's view: delivered, done, and the source as given.
  ASSERT_OK(alice->sync());
  auto sent = alice->attachment("bob", *id);
  ASSERT_TRUE(sent.ok() && sent->has_value());
  EXPECT_EQ((*sent)->state, AttachmentView::State::kDone);
  EXPECT_EQ(std::filesystem::path((*sent)->local_path).filename(), "holiday photo.jpg");
  auto alice_history = alice->history("bob", 10);
  ASSERT_TRUE(alice_history.ok());
  ASSERT_EQ(alice_history->size(), 1u);
  EXPECT_EQ((*alice_history)[0].status, MessageStatus::kDelivered);

  // A second file with the same name does not replace the first.
  make_file(source / "holiday photo.jpg", 10, marker);
  ASSERT_TRUE(alice->queue_file("bob", source / "holiday photo.jpg").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(bob->sync());
  ASSERT_EQ(bob.of_kind(Event::Kind::kFileReceived).size(), 2u);
  EXPECT_EQ(bob.of_kind(Event::Kind::kFileReceived)[1].body,
            (bob.downloads() / "holiday photo (1).jpg").string());
  EXPECT_EQ(testing::file_bytes(bob.downloads() / "holiday photo.jpg"), content);
}

TEST(AttachmentTest, EmptyFilesAndTooLargeFiles) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  make_file(source / "empty.txt", 0, "");
  ASSERT_TRUE(alice->queue_file("bob", source / "empty.txt").ok());
  ASSERT_OK(alice->flush());
  ASSERT_OK(bob->sync());
  auto received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(received[0].body), 0u);

  {  // sparse: costs no disk
    std::ofstream big(source / "big.bin", std::ios::binary);
  }
  std::filesystem::resize_file(source / "big.bin", 101ull * 1024 * 1024);
  auto refused = alice->queue_file("bob", source / "big.bin");
  EXPECT_EQ(refused.status().code(), ErrorCode::kTooLarge);
  EXPECT_THAT(refused.status().message(), HasSubstr("100 MiB"));
  EXPECT_EQ(alice->queue_file("bob", source / "missing").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(files_in(alice.home() / "attachments").empty());
}

TEST(AttachmentTest, UploadResumesAfterTheNetworkDropsAndAfterARestartNeverFromZero) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  std::string content = make_file(source / "notes.bin", kFileSize, "resume-upload-marker");

  // The network goes away once 100 KiB are acknowledged.
  alice.on_progress = [&](const TransferProgress& progress) {
    if (progress.upload && progress.done_bytes >= 100UL * 1024) server.set_reachable(false);
  };
  auto id = alice->queue_file("bob", source / "notes.bin");
  ASSERT_TRUE(id.ok());
  Status cut = alice->flush();
  EXPECT_FALSE(cut.ok());
  alice.on_progress = nullptr;
  std::uint64_t acknowledged = alice.progress().back().done_bytes;
  EXPECT_GE(acknowledged, 100u * 1024);
  EXPECT_LT(acknowledged, alice.progress().back().total_bytes);

  // Back online: the upload goes on from what the server holds.
  server.set_reachable(true);
  alice.progress().clear();
  alice.on_progress = [&](const TransferProgress& progress) {
    if (progress.upload && progress.done_bytes >= 200UL * 1024) server.set_reachable(false);
  };
  EXPECT_FALSE(alice->flush().ok());
  alice.on_progress = nullptr;
  ASSERT_FALSE(alice.progress().empty());
  EXPECT_EQ(alice.progress().front().done_bytes, acknowledged);
  acknowledged = alice.progress().back().done_bytes;

  // And after a restart of the app too.
  server.set_reachable(true);
  alice.reopen();
  alice.progress().clear();
  ASSERT_OK(alice->flush());
  ASSERT_FALSE(alice.progress().empty());
  EXPECT_EQ(alice.progress().front().done_bytes, acknowledged);
  std::uint64_t total = alice.progress().back().total_bytes;
  EXPECT_EQ(alice.progress().back().done_bytes, total);
  {
    std::lock_guard lock(alice.tap().mutex);
    // Every byte went up once, plus at most the chunk in flight at each of the two cuts.
    EXPECT_LE(alice.tap().uploaded_bytes, total + 2UL * 12 * 1024);
    EXPECT_GE(alice.tap().uploaded_bytes, total);
    EXPECT_EQ(std::count(alice.tap().upload_offsets.begin(), alice.tap().upload_offsets.end(), 0u),
              1);  // never started over
  }
  ASSERT_OK(bob->sync());
  auto received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(testing::file_bytes(received[0].body), content);
}

TEST(AttachmentTest, DownloadResumesAfterTheNetworkDropsAndAfterARestart) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  std::string content = make_file(source / "notes.bin", kFileSize, "resume-download-marker");
  ASSERT_TRUE(alice->queue_file("bob", source / "notes.bin").ok());
  ASSERT_OK(alice->flush());

  bob.on_progress = [&](const TransferProgress& progress) {
    if (!progress.upload && progress.done_bytes >= 120UL * 1024) server.set_reachable(false);
  };
  EXPECT_FALSE(bob->sync().ok());
  bob.on_progress = nullptr;
  std::uint64_t fetched = bob.progress().back().done_bytes;
  EXPECT_GE(fetched, 120u * 1024);
  EXPECT_TRUE(bob.of_kind(Event::Kind::kFileReceived).empty());
  for (const auto& file : files_in(bob.downloads())) {
    EXPECT_EQ(file.parent_path().filename(), ".parley-partial") << "only partial ciphertext";
    EXPECT_EQ(testing::file_bytes(file).find("resume-download-marker"), std::string::npos);
  }

  server.set_reachable(true);
  bob.reopen();
  bob.progress().clear();
  ASSERT_OK(bob->sync());
  ASSERT_FALSE(bob.progress().empty());
  EXPECT_EQ(bob.progress().front().done_bytes, fetched);
  auto received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(testing::file_bytes(received[0].body), content);
  std::uint64_t total = bob.progress().back().total_bytes;
  std::lock_guard lock(bob.tap().mutex);
  EXPECT_LE(bob.tap().downloaded_bytes, total + 12UL * 1024);
}

TEST(AttachmentTest, ExpiredBlobGivesAClearErrorAndNoFile) {
  FakeClock clock;
  LoopbackServer server(clock);
  Device alice(server, &clock), bob(server, &clock);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  make_file(source / "late.bin", 50UL * 1024, "expired-marker");
  auto id = alice->queue_file("bob", source / "late.bin", "for later");
  ASSERT_TRUE(id.ok());
  ASSERT_OK(alice->flush());

  // Bob gets the message, but his downloads fail (a network that fails) for 31 days.
  bob.tap().block_downloads = true;
  EXPECT_FALSE(bob->sync().ok());
  bob.tap().block_downloads = false;
  ASSERT_EQ(bob.of_kind(Event::Kind::kMessage).size(), 1u);
  clock.advance(std::chrono::hours(24 * 31));
  ASSERT_OK(server.run_maintenance());

  ASSERT_OK(bob->sync());
  auto warnings = bob.of_kind(Event::Kind::kWarning);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code, ErrorCode::kExpired);
  EXPECT_THAT(warnings[0].body, HasSubstr("no longer on the server"));
  EXPECT_EQ(warnings[0].client_message_id_hex, *id);
  EXPECT_TRUE(files_in(bob.downloads()).empty());
  auto view = bob->attachment("alice", *id);
  ASSERT_TRUE(view.ok() && view->has_value());
  EXPECT_EQ((*view)->state, AttachmentView::State::kFailed);
  EXPECT_THAT((*view)->error, HasSubstr("ask the sender to send it again"));
  // Given up for good: no retry, no second warning.
  ASSERT_OK(bob->sync());
  EXPECT_EQ(bob.of_kind(Event::Kind::kWarning).size(), 1u);
}

TEST(AttachmentTest, AnUploadWhoseBlobExpiredStartsOverWithANewOne) {
  FakeClock clock;
  LoopbackServer server(clock);
  Device alice(server, &clock), bob(server, &clock);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  std::string content = make_file(source / "slow.bin", kFileSize, "slow-marker");
  alice.on_progress = [&](const TransferProgress& progress) {
    if (progress.done_bytes >= 50UL * 1024) server.set_reachable(false);
  };
  ASSERT_TRUE(alice->queue_file("bob", source / "slow.bin").ok());
  EXPECT_FALSE(alice->flush().ok());
  alice.on_progress = nullptr;
  clock.advance(std::chrono::hours(24 * 31));
  ASSERT_OK(server.run_maintenance());
  server.set_reachable(true);

  ASSERT_OK(alice->flush());
  {
    std::lock_guard lock(alice.tap().mutex);
    EXPECT_EQ(std::count(alice.tap().upload_offsets.begin(), alice.tap().upload_offsets.end(), 0u),
              2);  // the first blob, then its replacement
  }
  ASSERT_OK(bob->sync());
  auto received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(testing::file_bytes(received[0].body), content);
}

TEST(AttachmentTest, AChangedBlobIsRejectedAndNoPlaintextIsLeft) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  make_file(source / "contract.pdf", kFileSize, "tamper-marker");
  auto id = alice->queue_file("bob", source / "contract.pdf");
  ASSERT_TRUE(id.ok());
  ASSERT_OK(alice->flush());

  bob.tap().tamper_download_response = 3;  // one byte of the third chunk
  ASSERT_OK(bob->sync());
  EXPECT_TRUE(bob.of_kind(Event::Kind::kFileReceived).empty());
  auto warnings = bob.of_kind(Event::Kind::kWarning);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code, ErrorCode::kBadMac);
  EXPECT_THAT(warnings[0].body, HasSubstr("does not verify"));
  EXPECT_TRUE(files_in(bob.downloads()).empty()) << "no plaintext, no partial ciphertext";
  auto view = bob->attachment("alice", *id);
  ASSERT_TRUE(view.ok() && view->has_value());
  EXPECT_EQ((*view)->state, AttachmentView::State::kFailed);
  EXPECT_TRUE((*view)->local_path.empty());
}

TEST(AttachmentTest, ListenDownloadsWhenIdleAndAStopPausesATransferThatResumesLater) {
  LoopbackServer server;
  Device alice(server), bob(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  TempHome source;
  std::string first = make_file(source / "first.bin", 40UL * 1024, "listen-marker-1");
  ASSERT_TRUE(alice->queue_file("bob", source / "first.bin").ok());
  ASSERT_OK(alice->flush());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  ASSERT_OK(bob->listen(
      [&] {
        return bob.of_kind(Event::Kind::kFileReceived).empty() &&
               std::chrono::steady_clock::now() < deadline;
      },
      std::chrono::milliseconds(20)));
  auto received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(testing::file_bytes(received[0].body), first);

  // Stopping the listener mid-download pauses it; the next sync goes on from there.
  std::string second = make_file(source / "second.bin", kFileSize, "listen-marker-2");
  ASSERT_TRUE(alice->queue_file("bob", source / "second.bin").ok());
  ASSERT_OK(alice->flush());
  bool stop = false;
  bob.on_progress = [&](const TransferProgress& progress) {
    if (progress.done_bytes >= 100UL * 1024) stop = true;
  };
  bob.progress().clear();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  ASSERT_OK(bob->listen([&] { return !stop && std::chrono::steady_clock::now() < deadline; },
                        std::chrono::milliseconds(20)));
  bob.on_progress = nullptr;
  ASSERT_TRUE(stop);
  EXPECT_EQ(bob.of_kind(Event::Kind::kFileReceived).size(), 1u);
  std::uint64_t paused_at = bob.progress().back().done_bytes;
  bob.progress().clear();
  ASSERT_OK(bob->sync());
  ASSERT_FALSE(bob.progress().empty());
  EXPECT_EQ(bob.progress().front().done_bytes, paused_at);
  received = bob.of_kind(Event::Kind::kFileReceived);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(testing::file_bytes(received[1].body), second);
}

TEST(AttachmentTest, AGroupFileReachesEveryMember) {
  LoopbackServer server;
  Device alice(server), bob(server), carol(server);
  sign_up(alice, "alice");
  sign_up(bob, "bob");
  sign_up(carol, "carol");
  auto group = alice->create_group("climbers", {"bob", "carol"});
  ASSERT_TRUE(group.ok()) << group.status().to_string();
  ASSERT_OK(alice->flush());
  ASSERT_OK(bob->sync());
  ASSERT_OK(carol->sync());
  TempHome source;
  std::string content = make_file(source / "topo.pdf", kFileSize, "group-marker");
  auto id = alice->queue_group_file("climbers", source / "topo.pdf", "the route");
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  ASSERT_OK(alice->flush());
  EXPECT_TRUE(files_in(alice.home() / "attachments").empty());
  for (Device* member : {&bob, &carol}) {
    ASSERT_OK((*member)->sync());
    std::vector<Event> messages;
    for (const auto& event : member->of_kind(Event::Kind::kMessage)) {
      if (event.client_message_id_hex == *id) messages.push_back(event);
    }
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].body, "the route");
    EXPECT_EQ(messages[0].group_id_hex, group->group_id_hex);
    EXPECT_EQ(messages[0].file_name, "topo.pdf");
    auto received = member->of_kind(Event::Kind::kFileReceived);
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0].group_id_hex, group->group_id_hex);
    EXPECT_EQ(received[0].group_name, "climbers");
    EXPECT_EQ(received[0].peer_username, "alice");
    EXPECT_EQ(testing::file_bytes(received[0].body), content);
    auto view = (*member)->attachment("climbers", *id);
    ASSERT_TRUE(view.ok() && view->has_value()) << view.status().to_string();
    EXPECT_EQ((*view)->state, AttachmentView::State::kDone);
  }
}

}  // namespace
}  // namespace parley::client
