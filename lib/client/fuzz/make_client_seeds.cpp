// SPDX-License-Identifier: AGPL-3.0-or-later
// Writes the seed corpora of the client fuzz targets (lib/client/fuzz/*_fuzzer.cpp) into
// <corpus-dir>/{device_list,group_state,attachment,file_name,content}/: genuine signed device
// lists, signed group states and encrypted attachments made with the fixed accounts and key of
// client_fixtures.h (test fixtures, no one's real keys), plus a few refused inputs. The output is
// deterministic (fixed keys, fixed signature nonces, a fixed secretstream header), so rerunning
// it changes no committed file unless the formats or this program changed.
//
//   parley_fuzz_client_seeds <corpus-dir>      # e.g. fuzz/corpus
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../src/attachment_crypto.h"
#include "../src/group_state.h"
#include "client_fixtures.h"
#include "parley/client/content.pb.h"
#include "parley/client/device_list.h"
#include "parley/crypto/hash.h"
#include "parley/crypto/messages.h"
#include "parley/crypto/padding.h"

using namespace parley;
using namespace parley::client;
namespace fs = std::filesystem;

namespace {

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  void add(const std::string& target, const std::string& name, ByteView bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    PARLEY_FUZZ_CHECK(out.good());
  }
  void add(const std::string& target, const std::string& name, std::string_view text) {
    add(target, name, as_bytes(text));
  }

 private:
  fs::path root_;
};

Bytes with_prefix(std::initializer_list<std::uint8_t> prefix, ByteView rest) {
  Bytes out(prefix);
  append(out, rest);
  return out;
}

// ---- Device lists ----------------------------------------------------------------------------

std::string device_list_body(ByteView account_id, std::uint64_t version,
                             const std::vector<std::pair<std::uint32_t, Bytes>>& devices,
                             const std::string& username) {
  content::DeviceList list;
  list.set_account_id(account_id.data(), account_id.size());
  list.set_version(version);
  list.set_timestamp_ms(1'700'000'000'000 + static_cast<std::int64_t>(version));
  list.set_username(username);
  for (const auto& [id, key] : devices) {
    auto* device = list.add_devices();
    device->set_device_id(id);
    device->set_device_key(key.data(), key.size());
  }
  return list.SerializeAsString();
}

// As sign_device_list(), with a fixed nonce.
Bytes sign_list(const std::string& body, const crypto::PrivateKey& key) {
  const Bytes signature =
      fuzzing::fixed_sign(key, concat({as_bytes("parley-device-list-v1"), as_bytes(body)}));
  content::SignedDeviceList outer;
  outer.set_device_list(body);
  outer.set_signature(signature.data(), signature.size());
  return to_bytes(outer.SerializeAsString());
}

void device_list_seeds(Corpus& corpus) {
  const auto& accounts = fuzzing::fixed_accounts();
  const auto& alice = accounts[0];
  const Bytes primary = alice.identity.public_key.serialize();
  const Bytes linked = fuzzing::fixed_key(0x91).public_key.serialize();
  const Bytes other = fuzzing::fixed_key(0x92).public_key.serialize();

  const std::string one = device_list_body(alice.account_id, 1, {{1, primary}}, "alice");
  const std::string three =
      device_list_body(alice.account_id, 4, {{1, primary}, {2, linked}, {7, other}}, "alice");
  // Served lists (selector 0): signed by alice; one signed by bob instead. The valid seeds must
  // verify, or the fuzzer would never get past the signature.
  for (const std::string* body : {&one, &three}) {
    PARLEY_FUZZ_CHECK(verify_device_list(sign_list(*body, alice.identity.private_key),
                                         alice.identity.public_key, alice.account_id)
                          .ok());
  }
  corpus.add("device_list", "signed-one",
             with_prefix({0}, sign_list(one, alice.identity.private_key)));
  corpus.add("device_list", "signed-three",
             with_prefix({0}, sign_list(three, alice.identity.private_key)));
  corpus.add("device_list", "signed-by-bob",
             with_prefix({0}, sign_list(three, accounts[1].identity.private_key)));
  // Bodies the fuzzer signs (selector 1): valid ones, then one refusal per rule.
  corpus.add("device_list", "body-one", with_prefix({1}, as_bytes(one)));
  corpus.add("device_list", "body-three", with_prefix({1}, as_bytes(three)));
  corpus.add("device_list", "body-no-username",
             with_prefix({1}, as_bytes(device_list_body(alice.account_id, 2,
                                                        {{1, primary}, {2, linked}}, ""))));
  corpus.add("device_list", "body-other-account",
             with_prefix({1}, as_bytes(device_list_body(accounts[1].account_id, 1, {{1, primary}},
                                                        "bob"))));
  corpus.add("device_list", "body-device-zero",
             with_prefix({1}, as_bytes(device_list_body(alice.account_id, 1,
                                                        {{1, primary}, {0, linked}}, ""))));
  corpus.add("device_list", "body-duplicate",
             with_prefix({1}, as_bytes(device_list_body(alice.account_id, 1,
                                                        {{1, primary}, {1, primary}}, ""))));
  corpus.add("device_list", "body-primary-not-identity",
             with_prefix({1}, as_bytes(device_list_body(alice.account_id, 1,
                                                        {{1, linked}, {2, primary}}, ""))));
  corpus.add("device_list", "body-bad-key",
             with_prefix({1}, as_bytes(device_list_body(
                                  alice.account_id, 1, {{1, primary}, {2, Bytes(33, 0x07)}}, ""))));
}

// ---- Group states ----------------------------------------------------------------------------

struct Member {
  std::size_t account;  // index into fixed_accounts()
  bool admin;
};

content::GroupState group_state(std::uint64_t version, const std::vector<Member>& members,
                                const std::string& name, std::size_t author) {
  const auto& accounts = fuzzing::fixed_accounts();
  content::GroupState state;
  const Bytes group_id = fuzzing::fixed_group_id();
  state.set_group_id(group_id.data(), group_id.size());
  state.set_version(version);
  state.set_name(name);
  for (const Member& m : members) {
    auto* member = state.add_members();
    member->set_account_id(accounts[m.account].account_id.data(), 16);
    member->set_username(accounts[m.account].name);
    const Bytes key = accounts[m.account].identity.public_key.serialize();
    member->set_identity_key(key.data(), key.size());
    member->set_admin(m.admin);
  }
  groups::sort_members(state);
  state.set_author_account_id(accounts[author].account_id.data(), 16);
  state.set_timestamp_ms(1'700'000'000'000 + static_cast<std::int64_t>(version));
  return state;
}

// A SignedGroupState signed by the state's author (as groups.cpp publishes it).
Bytes sign_state(const content::GroupState& state) {
  const auto* author = fuzzing::fixed_accounts().find(as_bytes(state.author_account_id()));
  PARLEY_FUZZ_CHECK(author != nullptr);
  const std::string body = state.SerializeAsString();
  const Bytes signature =
      fuzzing::fixed_sign(author->identity.private_key, groups::signed_bytes(as_bytes(body)));
  content::SignedGroupState signed_state;
  signed_state.set_state(body);
  signed_state.set_signature(signature.data(), signature.size());
  return to_bytes(signed_state.SerializeAsString());
}

// group_state_fuzzer's layout: [len][current][len][previous][next].
Bytes group_input(ByteView current, ByteView previous, ByteView next) {
  Bytes out;
  for (ByteView part : {current, previous}) {
    out.push_back(static_cast<std::uint8_t>(part.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(part.size()));
    append(out, part);
  }
  append(out, next);
  return out;
}

// Returns a signed state for the content seeds.
Bytes group_state_seeds(Corpus& corpus) {
  enum { kAlice, kBob, kCarol, kDave };
  // v1: alice and bob admins, carol a member.
  const auto v1 = group_state(1, {{kAlice, true}, {kBob, true}, {kCarol, false}}, "fuzz", kAlice);
  // Two concurrent v2s: alice adds dave, bob renames.
  const auto v2_add = group_state(
      2, {{kAlice, true}, {kBob, true}, {kCarol, false}, {kDave, false}}, "fuzz", kAlice);
  const auto v2_rename =
      group_state(2, {{kAlice, true}, {kBob, true}, {kCarol, false}}, "renamed", kBob);
  // Carol leaves; then alice, the only admin of a smaller group, leaves it to bob.
  content::GroupState v2_leave = groups::without_member(v1, as_bytes(v1.members(2).account_id()));
  v2_leave.set_version(2);
  v2_leave.set_author_account_id(v1.members(2).account_id());
  const auto solo = group_state(5, {{kAlice, true}, {kBob, false}}, "pair", kAlice);
  content::GroupState solo_leave =
      groups::without_member(solo, as_bytes(solo.members(0).account_id()));
  solo_leave.set_version(6);
  solo_leave.set_author_account_id(solo.members(0).account_id());
  // Carol, not an admin, renames: refused.
  const auto v2_carol =
      group_state(2, {{kAlice, true}, {kBob, true}, {kCarol, false}}, "carol's", kCarol);
  // Alice removes bob and makes carol an admin (a diff with removal and a role change).
  const auto v2_reshuffle = group_state(2, {{kAlice, true}, {kCarol, true}}, "fuzz", kAlice);

  // The seeds exercise what they are named after.
  PARLEY_FUZZ_CHECK(groups::authorized(v1, v2_add) && groups::authorized(v1, v2_rename));
  PARLEY_FUZZ_CHECK(groups::is_leave_of_author(v1, v2_leave) && groups::authorized(v1, v2_leave));
  PARLEY_FUZZ_CHECK(groups::is_leave_of_author(solo, solo_leave));
  PARLEY_FUZZ_CHECK(!groups::authorized(v1, v2_carol) && groups::authorized(v1, v2_reshuffle));

  const Bytes s1 = sign_state(v1), s2a = sign_state(v2_add), s2r = sign_state(v2_rename),
              s2l = sign_state(v2_leave), s5 = sign_state(solo), s6 = sign_state(solo_leave),
              s2c = sign_state(v2_carol), s2x = sign_state(v2_reshuffle);
  for (const Bytes* seed : {&s1, &s2a, &s2r, &s2l, &s5, &s6, &s2c, &s2x}) {
    content::SignedGroupState outer;
    PARLEY_FUZZ_CHECK(outer.ParseFromArray(seed->data(), static_cast<int>(seed->size())));
    PARLEY_FUZZ_CHECK(groups::parse_state(as_bytes(outer.state())).ok());
  }
  corpus.add("group_state", "newer-add", group_input(s1, {}, s2a));
  corpus.add("group_state", "newer-reshuffle", group_input(s1, {}, s2x));
  corpus.add("group_state", "tie-break", group_input(s2a, s1, s2r));
  corpus.add("group_state", "tie-break-other-way", group_input(s2r, s1, s2a));
  corpus.add("group_state", "leave", group_input(s1, {}, s2l));
  corpus.add("group_state", "leave-concurrent", group_input(s2a, s1, s2l));
  corpus.add("group_state", "last-admin-leaves", group_input(s5, {}, s6));
  corpus.add("group_state", "not-admin", group_input(s1, {}, s2c));
  corpus.add("group_state", "older", group_input(s2a, s1, s1));
  corpus.add("group_state", "same", group_input(s2a, s1, s2a));
  return s1;
}

// ---- Attachments -----------------------------------------------------------------------------

// The ciphertext of `plain` under the fixed key and header, as encrypt_file() lays it out. The
// push state is set up with init_pull on a chosen header: libsodium's init_push is init_pull on a
// random header, so this is the same stream with a reproducible header.
Bytes encrypt_fixed(ByteView plain, std::uint32_t chunk_size) {
  const SecretBytes key = fuzzing::fixed_attachment_key();
  const Bytes header = fuzzing::fixed_attachment_header();
  crypto_secretstream_xchacha20poly1305_state state;
  PARLEY_FUZZ_CHECK(
      crypto_secretstream_xchacha20poly1305_init_pull(&state, header.data(), key.data()) == 0);
  Bytes out = header;
  std::size_t at = 0;
  do {
    const std::size_t n = std::min<std::size_t>(chunk_size, plain.size() - at);
    const bool final = at + n == plain.size();
    Bytes sealed(n + attachment::kChunkOverheadBytes);
    unsigned long long sealed_size = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &state, sealed.data(), &sealed_size, plain.data() + at, n, nullptr, 0,
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    sealed.resize(static_cast<std::size_t>(sealed_size));
    append(out, sealed);
    at += n;
  } while (at < plain.size());
  sodium_memzero(&state, sizeof(state));
  PARLEY_FUZZ_CHECK(out.size() == attachment::ciphertext_size_for(plain.size(), chunk_size));
  return out;
}

// decrypt_file() accepts the seed, so the fuzzer starts from streams that get all the way through.
void check_decrypts(ByteView blob, std::size_t size, std::uint32_t chunk_size) {
  const fs::path dir = fs::temp_directory_path() / "parley-fuzz-client-seeds";
  fs::create_directories(dir);
  const fs::path source = dir / "blob", destination = dir / "plain";
  fs::remove(destination);
  {
    std::ofstream out(source, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(blob.data()),
              static_cast<std::streamsize>(blob.size()));
  }
  const SecretBytes key = fuzzing::fixed_attachment_key();
  const auto digest = crypto::sha256(blob);
  attachment::DecryptParams params;
  params.key = &key;
  params.digest = ByteView(digest.data(), digest.size());
  params.size = size;
  params.ciphertext_size = blob.size();
  params.chunk_size = chunk_size;
  PARLEY_FUZZ_CHECK(attachment::decrypt_file(source, destination, params).ok());
  fs::remove_all(dir);
}

void attachment_seeds(Corpus& corpus) {
  for (std::size_t selector = 0; selector < fuzzing::kAttachmentChunkSizes.size(); ++selector) {
    const std::uint32_t chunk = fuzzing::kAttachmentChunkSizes[selector];
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{chunk},
                             std::size_t{chunk} + 5, std::size_t{2} * chunk}) {
      if (size > 3000) continue;  // keeps inputs within fuzz.sh's -max_len
      Bytes plain(size);
      for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 31 + 7);
      const Bytes blob = encrypt_fixed(plain, chunk);
      check_decrypts(blob, size, chunk);
      const std::uint8_t flags = static_cast<std::uint8_t>(selector | 4);  // digest of the blob
      corpus.add("attachment", "chunk" + std::to_string(chunk) + "-size" + std::to_string(size),
                 with_prefix(
                     {flags, static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)},
                     blob));
    }
  }
  // Refused: a valid stream against the fixed digest, and one that is cut short.
  Bytes plain(100, 0x41);
  const Bytes blob = encrypt_fixed(plain, 64);
  corpus.add("attachment", "fixed-digest", with_prefix({1, 0, 100}, blob));
  corpus.add("attachment", "truncated",
             with_prefix({1 | 4, 0, 100}, ByteView(blob).first(blob.size() - 20)));
}

// ---- Content ---------------------------------------------------------------------------------

void add_content(Corpus& corpus, const std::string& name, const content::Content& message) {
  auto padded = crypto::pad_message(as_bytes(message.SerializeAsString()));
  PARLEY_FUZZ_CHECK(padded.ok());
  corpus.add("content", name, padded->view());
}

void content_seeds(Corpus& corpus, ByteView signed_group_state) {
  const Bytes message_id = fuzzing::fixed_bytes(0x4d, 16);
  const Bytes group_id = fuzzing::fixed_group_id();
  auto base = [&] {
    content::Content c;
    c.set_client_message_id(message_id.data(), message_id.size());
    c.set_sent_ms(1'700'000'000'000);
    c.set_sender_username("alice");
    return c;
  };
  {
    content::Content c = base();
    c.mutable_text()->set_body("hello");
    c.mutable_text()->set_expire_seconds(3600);
    add_content(corpus, "text", c);
  }
  {
    content::Content c = base();
    auto* pointer = c.mutable_text()->mutable_attachment();
    const Bytes id = fuzzing::fixed_bytes(0x1d, 16);
    const SecretBytes key = fuzzing::fixed_attachment_key();
    const Bytes digest = fuzzing::fixed_bytes(0xd9, 32);
    pointer->set_attachment_id(id.data(), id.size());
    pointer->set_key(key.data(), key.size());
    pointer->set_digest(digest.data(), digest.size());
    pointer->set_size(100);
    pointer->set_ciphertext_size(attachment::ciphertext_size_for(100, 64));
    pointer->set_chunk_size(64);
    pointer->set_file_name("../report.pdf");
    pointer->set_content_type("application/pdf");
    c.mutable_text()->set_body("the report");
    add_content(corpus, "attachment", c);
  }
  {
    content::Content c = base();
    c.mutable_receipt()->set_type(content::Receipt::READ);
    c.mutable_receipt()->add_client_message_ids(message_id.data(), message_id.size());
    add_content(corpus, "receipt", c);
  }
  {
    content::Content c = base();
    c.mutable_typing()->set_started(true);
    add_content(corpus, "typing", c);
  }
  {
    content::Content c = base();
    c.mutable_timer()->set_seconds(86400);
    add_content(corpus, "timer", c);
  }
  {
    content::Content c = base();
    auto* sent = c.mutable_sent();
    sent->set_recipient_account_id(fuzzing::fixed_accounts()[1].account_id.data(), 16);
    sent->mutable_text()->set_body("to bob");
    add_content(corpus, "sent-transcript", c);
  }
  {
    content::Content c = base();
    c.set_group_id(group_id.data(), group_id.size());
    PARLEY_FUZZ_CHECK(c.mutable_group_update()->mutable_state()->ParseFromArray(
        signed_group_state.data(), static_cast<int>(signed_group_state.size())));
    add_content(corpus, "group-update", c);
  }
  {
    auto distribution = crypto::SenderKeyDistributionMessage::create(
        0x1234, 0, fuzzing::fixed_secret(0x5e).view(), fuzzing::fixed_key(0x5f).public_key);
    PARLEY_FUZZ_CHECK(distribution.ok());
    const Bytes serialized = distribution->serialize();
    const Bytes distribution_id = fuzzing::fixed_bytes(0xd1, 16);
    content::Content c = base();
    c.set_group_id(group_id.data(), group_id.size());
    c.mutable_sender_key()->set_group_id(group_id.data(), group_id.size());
    c.mutable_sender_key()->set_distribution_id(distribution_id.data(), distribution_id.size());
    c.mutable_sender_key()->set_message(serialized.data(), serialized.size());
    add_content(corpus, "sender-key", c);
  }
  {
    content::Content c = base();
    c.set_group_id(group_id.data(), group_id.size());
    c.mutable_text()->set_body("hello group");
    add_content(corpus, "group-text", c);
  }
  {
    // A link proof as a joining device sends it (not padded; the MAC is a placeholder).
    content::LinkProof proof;
    proof.set_device_id(2);
    const Bytes key = fuzzing::fixed_key(0x91).public_key.serialize();
    const Bytes mac = fuzzing::fixed_bytes(0x3a, 32);
    proof.set_device_key(key.data(), key.size());
    proof.set_mac(mac.data(), mac.size());
    corpus.add("content", "link-proof", as_bytes(proof.SerializeAsString()));
  }
}

// ---- File names ------------------------------------------------------------------------------

void file_name_seeds(Corpus& corpus) {
  corpus.add("file_name", "plain", std::string_view("photo.jpg"));
  corpus.add("file_name", "traversal", std::string_view("../../etc/passwd"));
  corpus.add("file_name", "windows", std::string_view("..\\..\\boot.ini"));
  corpus.add("file_name", "dot-dot", std::string_view(".."));
  corpus.add("file_name", "hidden", std::string_view(".bashrc"));
  corpus.add("file_name", "bidi", std::string_view("invoice\u202Efdp.exe"));
  corpus.add("file_name", "controls", std::string_view("a\tb\r\nc\x7f\xc2\x85.txt"));
  corpus.add("file_name", "nul", std::string_view("x\0y.txt", 7));
  corpus.add("file_name", "invalid-utf8", std::string_view("\xff\xfe\xc0\xaf\xed\xa0\x80.txt"));
  corpus.add("file_name", "unicode", std::string_view("\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb.pdf"));
  corpus.add("file_name", "long", std::string(150, 'a') + std::string(100, '\xe2') + ".tar.gz");
  corpus.add("file_name", "long-utf8", [] {
    std::string s;
    for (int i = 0; i < 80; ++i) s += "\xe6\x96\x87";  // U+6587
    return s + ".txt";
  }());
  corpus.add("file_name", "empty", std::string_view(""));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    (void)std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return 2;
  }
  PARLEY_FUZZ_CHECK(sodium_init() >= 0);
  Corpus corpus(argv[1]);
  device_list_seeds(corpus);
  const Bytes signed_state = group_state_seeds(corpus);
  attachment_seeds(corpus);
  content_seeds(corpus, signed_state);
  file_name_seeds(corpus);
  std::printf("client seeds written to %s\n", argv[1]);
  return 0;
}
