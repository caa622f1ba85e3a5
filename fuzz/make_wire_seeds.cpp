// SPDX-License-Identifier: AGPL-3.0-or-later
// Writes the seed corpora of the protocol fuzz targets: fuzz/corpus/request/ (one valid encoded
// Frame per request kind, for parley_fuzz_request) and fuzz/corpus/core/ (multi-frame inputs in
// core_fuzzer.cpp's `[connection:1][length:2 big-endian][frame]` format, for parley_fuzz_core).
// The output is deterministic (fixed bytes, no keys or randomness), so rerunning it changes no
// committed file unless the schema or this program changed. Seeds stay small: every field is at
// most a few hundred bytes.
//
//   parley_fuzz_wire_seeds <corpus-dir>      # e.g. fuzz/corpus
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "parley/proto/frame.h"

using namespace parley;
namespace fs = std::filesystem;

namespace {

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  // Writes <root>/<target>/seed-<name>.
  void add(const std::string& target, const std::string& name, ByteView bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) {
      std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
      std::exit(1);
    }
    ++count_[target];
  }
  void report() const {
    for (const auto& [target, n] : count_) std::printf("%s: %d seeds\n", target.c_str(), n);
  }

 private:
  fs::path root_;
  std::map<std::string, int> count_;
};

std::string bytes_of(std::size_t n, char first) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>(first + static_cast<char>(i % 23));
  return out;
}

std::string public_key(char seed) {
  return std::string(1, '\x05') + bytes_of(32, seed);
}

// One valid request of every kind, named by its body case.
std::vector<std::pair<std::string, wire::Request>> one_of_each() {
  std::vector<std::pair<std::string, wire::Request>> out;
  auto add = [&](wire::Request r) {
    r.set_id(out.size() + 1);
    out.emplace_back(std::string(proto::request_type_name(r)), std::move(r));
  };
  wire::Request r;
  r.mutable_ping();
  add(r);
  r.Clear();
  r.mutable_registration_challenge();
  add(r);
  r.Clear();
  auto* create = r.mutable_create_account();
  create->set_identity_key(public_key('a'));
  create->set_registration_id(1234);
  create->set_challenge(bytes_of(32, 'c'));
  create->set_pow_nonce("00000042");
  create->set_signature(bytes_of(64, 's'));
  create->set_username("fuzz_user");
  add(r);
  r.Clear();
  r.mutable_auth_challenge();
  add(r);
  r.Clear();
  auto* auth = r.mutable_authenticate();
  auth->set_account_id(bytes_of(16, 'A'));
  auth->set_device_id(1);
  auth->set_challenge(bytes_of(32, 'c'));
  auth->set_signature(bytes_of(64, 's'));
  add(r);
  r.Clear();
  r.mutable_set_username()->set_username("Fuzz_User.1");
  add(r);
  r.Clear();
  r.mutable_lookup_username()->set_username("fuzz_user");
  add(r);
  r.Clear();
  r.mutable_delete_account();
  add(r);
  r.Clear();
  r.mutable_create_link_code();
  add(r);
  r.Clear();
  auto* link = r.mutable_link_device();
  link->set_code("abcdefghjkmnpqrs");
  link->set_device_key(public_key('d'));
  link->set_registration_id(99);
  link->set_signature(bytes_of(64, 'l'));
  add(r);
  r.Clear();
  r.mutable_set_device_list()->set_signed_device_list(bytes_of(120, 'L'));
  add(r);
  r.Clear();
  r.mutable_get_devices()->set_account_id(bytes_of(16, 'B'));
  add(r);
  r.Clear();
  r.mutable_remove_device()->set_device_id(2);
  add(r);
  r.Clear();
  auto* upload = r.mutable_upload_prekeys();
  upload->mutable_signed_prekey()->set_key_id(7);
  upload->mutable_signed_prekey()->set_public_key(public_key('p'));
  upload->mutable_signed_prekey()->set_signature(bytes_of(64, 'S'));
  for (std::uint32_t id = 1; id <= 3; ++id) {
    auto* otk = upload->add_one_time_prekeys();
    otk->set_key_id(id);
    otk->set_public_key(public_key(static_cast<char>('o' + id)));
  }
  add(r);
  r.Clear();
  r.mutable_get_prekey_bundle()->set_account_id(bytes_of(16, 'B'));
  add(r);
  r.Clear();
  auto* send = r.mutable_send_message();
  send->set_recipient_account_id(bytes_of(16, 'B'));
  send->set_client_message_id("message-0001");
  for (std::uint32_t device = 1; device <= 2; ++device) {
    auto* copy = send->add_copies();
    copy->set_device_id(device);
    copy->set_ciphertext(bytes_of(48, 'x'));
  }
  add(r);
  r.Clear();
  for (std::uint64_t seq : {1, 2, 3, 300}) r.mutable_ack_messages()->add_seqs(seq);
  add(r);
  r.Clear();
  auto* group = r.mutable_send_group_message();
  group->set_client_message_id("group-msg-0001");
  group->set_ciphertext(bytes_of(64, 'g'));
  for (char account : {'B', 'C'}) {
    auto* member = group->add_recipients();
    member->set_account_id(bytes_of(16, account));
    member->add_device_ids(1);
    member->add_device_ids(2);
  }
  add(r);
  r.Clear();
  r.mutable_create_attachment()->set_size(100);
  add(r);
  r.Clear();
  auto* chunk = r.mutable_upload_attachment_chunk();
  chunk->set_attachment_id(bytes_of(16, 'T'));
  chunk->set_offset(0);
  chunk->set_data(bytes_of(100, 'u'));
  add(r);
  r.Clear();
  r.mutable_get_attachment()->set_attachment_id(bytes_of(16, 'T'));
  add(r);
  r.Clear();
  auto* download = r.mutable_download_attachment_chunk();
  download->set_attachment_id(bytes_of(16, 'T'));
  download->set_offset(10);
  download->set_max_bytes(4096);
  add(r);
  return out;
}

Bytes frame_bytes(const wire::Request& r) {
  return proto::encode_frame(proto::request_frame(r));
}

// core_fuzzer.cpp input: frames for connection 0 (signed in) or 1 (fresh).
class Sequence {
 public:
  Sequence& on(std::uint8_t connection, ByteView frame) {
    out_.push_back(connection);
    out_.push_back(static_cast<std::uint8_t>(frame.size() >> 8));
    out_.push_back(static_cast<std::uint8_t>(frame.size() & 0xFF));
    append(out_, frame);
    return *this;
  }
  Sequence& on(std::uint8_t connection, const wire::Request& r) {
    return on(connection, frame_bytes(r));
  }
  const Bytes& bytes() const { return out_; }

 private:
  Bytes out_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  Corpus corpus(argv[1]);
  const auto requests = one_of_each();
  std::map<std::string, wire::Request> by_name;
  for (const auto& [name, request] : requests) {
    by_name[name] = request;
    corpus.add("request", name, frame_bytes(request));
  }
  // A few frames the decoder must refuse, so the fuzzer starts on both sides of each check.
  wire::Request no_body;
  no_body.set_id(9);
  corpus.add("request", "no-body", frame_bytes(no_body));
  wire::Frame response = proto::response_frame(3, Status());
  response.mutable_response()->mutable_ping()->set_server_time_ms(1);
  corpus.add("request", "response-from-client", proto::encode_frame(response));
  wire::Frame old = proto::request_frame(by_name["ping"]);
  old.set_version(2);
  corpus.add("request", "version-2", to_bytes(old.SerializeAsString()));

  // Core: each request kind alone on the connection where it can succeed, then sequences.
  const std::vector<std::string> fresh_kinds = {"registration_challenge", "create_account",
                                                "auth_challenge", "authenticate", "link_device"};
  for (const auto& [name, request] : requests) {
    bool fresh = std::find(fresh_kinds.begin(), fresh_kinds.end(), name) != fresh_kinds.end();
    corpus.add("core", "one-" + name, Sequence().on(fresh ? 1 : 0, request).bytes());
  }
  corpus.add("core", "signup-then-signin",
             Sequence()
                 .on(1, by_name["registration_challenge"])
                 .on(1, by_name["create_account"])
                 .on(1, by_name["auth_challenge"])
                 .on(1, by_name["authenticate"])
                 .on(1, by_name["ping"])
                 .bytes());
  corpus.add("core", "username-set-lookup",
             Sequence()
                 .on(0, by_name["set_username"])
                 .on(0, by_name["lookup_username"])
                 .on(1, by_name["lookup_username"])
                 .bytes());
  corpus.add("core", "link-code-then-link",
             Sequence().on(0, by_name["create_link_code"]).on(1, by_name["link_device"]).bytes());
  corpus.add("core", "attachment-lifecycle",
             Sequence()
                 .on(0, by_name["create_attachment"])
                 .on(0, by_name["upload_attachment_chunk"])
                 .on(0, by_name["get_attachment"])
                 .on(0, by_name["download_attachment_chunk"])
                 .bytes());
  corpus.add("core", "messages-and-acks",
             Sequence()
                 .on(0, by_name["upload_prekeys"])
                 .on(0, by_name["get_prekey_bundle"])
                 .on(0, by_name["send_message"])
                 .on(0, by_name["send_group_message"])
                 .on(0, by_name["ack_messages"])
                 .bytes());
  corpus.add("core", "devices",
             Sequence()
                 .on(0, by_name["set_device_list"])
                 .on(0, by_name["get_devices"])
                 .on(0, by_name["remove_device"])
                 .on(0, by_name["delete_account"])
                 .on(0, by_name["ping"])
                 .bytes());
  // A refused frame closes connection 1; the fuzzer then opens a new one and goes on.
  corpus.add("core", "refused-then-new-connection",
             Sequence()
                 .on(1, Bytes{0xFF, 0xFF})
                 .on(1, by_name["ping"])
                 .on(1, by_name["auth_challenge"])
                 .on(0, by_name["ping"])
                 .bytes());
  corpus.report();
  return 0;
}
