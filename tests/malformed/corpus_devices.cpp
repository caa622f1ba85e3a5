// SPDX-License-Identifier: AGPL-3.0-or-later
// Device linking, the device list, device removal and the prekey directory.
#include <gtest/gtest.h>

#include "corpus.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/signed_messages.h"

namespace parley::testing {
namespace {

using E = ErrorCode;

// A link code of a brand-new account (its primary stays connected on a helper connection).
std::string fresh_link_code(CaseContext& ctx) {
  TestAccount owner;
  ProtoClient& primary = ctx.open_signed_in(&owner);
  wire::Request r;
  r.mutable_create_link_code();
  auto code = primary.call(r);
  EXPECT_TRUE(code.ok() && code->status() == 0);
  return code.ok() ? code->create_link_code().code() : std::string();
}

wire::Request link_request(const std::string& code, const crypto::KeyPair& key) {
  Bytes device_key = key.public_key.serialize();
  wire::Request r;
  auto* body = r.mutable_link_device();
  body->set_code(code);
  body->set_device_key(str(device_key));
  body->set_registration_id(77);
  body->set_signature(str(
      crypto::xeddsa_sign(key.private_key, proto::link_signed_bytes(as_bytes(code), device_key))));
  return r;
}

// A link_device request on a fresh connection with a valid code; `change` breaks it.
Case link(std::string name,
          const std::function<void(CaseContext&, wire::LinkDeviceRequest&)>& change, E expected,
          After after = After::kOpen) {
  return Case{"link_device: " + std::move(name), State::kFresh,
              [change](CaseContext& ctx) {
                wire::Request r = link_request(fresh_link_code(ctx), crypto::KeyPair::generate());
                change(ctx, *r.mutable_link_device());
                return frame_of(r);
              },
              expected, after};
}

Case request(std::string name, State state,
             const std::function<void(CaseContext&, wire::Request&)>& fill, E expected,
             After after) {
  return Case{std::move(name), state,
              [fill](CaseContext& ctx) {
                wire::Request r;
                fill(ctx, r);
                return frame_of(r);
              },
              expected, after};
}

std::string public_key() {
  return str(crypto::KeyPair::generate().public_key.serialize());
}

// A signed prekey signed by the connection's own device key.
void add_signed_prekey(CaseContext& ctx, wire::UploadPrekeysRequest& r) {
  Bytes key = crypto::KeyPair::generate().public_key.serialize();
  auto* spk = r.mutable_signed_prekey();
  spk->set_key_id(1);
  spk->set_public_key(str(key));
  spk->set_signature(str(crypto::xeddsa_sign(ctx.self.identity.private_key, key)));
}

void add_one_time_prekeys(wire::UploadPrekeysRequest& r, std::uint32_t first, std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) {
    auto* otk = r.add_one_time_prekeys();
    otk->set_key_id(first + i);
    otk->set_public_key(public_key());
  }
}

}  // namespace

void add_device_and_key_cases(std::vector<Case>& cases) {
  // ---- Linking ------------------------------------------------------------------------------
  cases.push_back(request(
      "link_device with an unknown code", State::kFresh,
      [](CaseContext&, wire::Request& r) {
        r = link_request("abcdefghjkmnpqrs", crypto::KeyPair::generate());
      },
      E::kChallengeInvalid, After::kOpen));
  cases.push_back(request(
      "link_device with a 64-byte unknown code", State::kFresh,
      [](CaseContext&, wire::Request& r) {
        r = link_request(filler(64, 'k'), crypto::KeyPair::generate());
      },
      E::kChallengeInvalid, After::kOpen));
  cases.push_back(link(
      "code in upper case",
      [](CaseContext&, wire::LinkDeviceRequest& r) {
        std::string code = r.code();
        for (char& c : code) c = static_cast<char>(std::toupper(c));
        r.set_code(code);
      },
      E::kChallengeInvalid));
  cases.push_back(link(
      "code with a trailing space",
      [](CaseContext&, wire::LinkDeviceRequest& r) { r.set_code(r.code() + " "); },
      E::kChallengeInvalid));
  cases.push_back(link(
      "signature by another key",
      [](CaseContext&, wire::LinkDeviceRequest& r) {
        crypto::KeyPair other = crypto::KeyPair::generate();
        r.set_signature(str(crypto::xeddsa_sign(
            other.private_key,
            proto::link_signed_bytes(as_bytes(r.code()), as_bytes(r.device_key())))));
      },
      E::kBadSignature));
  cases.push_back(link(
      "signature over another code",
      [](CaseContext&, wire::LinkDeviceRequest& r) {
        crypto::KeyPair key = crypto::KeyPair::generate();
        wire::Request other = link_request("zzzzzzzzzzzzzzzz", key);
        r.set_device_key(other.link_device().device_key());
        r.set_signature(other.link_device().signature());
      },
      E::kBadSignature));
  cases.push_back(link(
      "signature of zeros",
      [](CaseContext&, wire::LinkDeviceRequest& r) { r.set_signature(filler(64, '\0')); },
      E::kBadSignature));
  cases.push_back(link(
      "device key with type byte 0x06",
      [](CaseContext&, wire::LinkDeviceRequest& r) {
        std::string key = r.device_key();
        key[0] = '\x06';
        r.set_device_key(key);
      },
      E::kInvalidKey));
  cases.push_back(link(
      "device key of 32 bytes",
      [](CaseContext&, wire::LinkDeviceRequest& r) { r.set_device_key(r.device_key().substr(1)); },
      E::kMalformedInput, After::kClose));
  cases.push_back(link(
      "signature of 65 bytes",
      [](CaseContext&, wire::LinkDeviceRequest& r) { r.set_signature(r.signature() + "s"); },
      E::kMalformedInput, After::kClose));
  cases.push_back(link(
      "empty code", [](CaseContext&, wire::LinkDeviceRequest& r) { r.clear_code(); },
      E::kMalformedInput, After::kClose));
  cases.push_back(link(
      "code of 65 bytes",
      [](CaseContext&, wire::LinkDeviceRequest& r) { r.set_code(filler(65, 'k')); }, E::kTooLarge,
      After::kClose));
  cases.push_back(Case{"link_device replays a code spent by a failed attempt", State::kFresh,
                       [](CaseContext& ctx) {
                         std::string code = fresh_link_code(ctx);
                         crypto::KeyPair key = crypto::KeyPair::generate();
                         wire::Request bad = link_request(code, key);
                         bad.mutable_link_device()->set_signature(filler(64, 'b'));
                         auto first = ctx.client.call(bad);
                         EXPECT_TRUE(first.ok() && first->status() == 301);
                         return frame_of(link_request(code, key));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"link_device replays a code that linked a device", State::kFresh,
                       [](CaseContext& ctx) {
                         std::string code = fresh_link_code(ctx);
                         auto first =
                             ctx.open().call(link_request(code, crypto::KeyPair::generate()));
                         EXPECT_TRUE(first.ok() && first->status() == 0);
                         return frame_of(link_request(code, crypto::KeyPair::generate()));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"link_device replaced by a newer code", State::kFresh,
                       [](CaseContext& ctx) {
                         TestAccount owner;
                         ProtoClient& primary = ctx.open_signed_in(&owner);
                         wire::Request ask;
                         ask.mutable_create_link_code();
                         auto older = primary.call(ask);
                         auto newer = primary.call(ask);
                         EXPECT_TRUE(older.ok() && newer.ok() && newer->status() == 0);
                         return frame_of(link_request(older->create_link_code().code(),
                                                      crypto::KeyPair::generate()));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"link_device while signed in", State::kSignedIn,
                       [](CaseContext& ctx) {
                         return frame_of(
                             link_request(fresh_link_code(ctx), crypto::KeyPair::generate()));
                       },
                       E::kFailedPrecondition, After::kOpen});
  cases.push_back(Case{
      "link_device a seventh device", State::kFresh,
      [](CaseContext& ctx) {
        TestAccount owner;
        ProtoClient& primary = ctx.open_signed_in(&owner);
        wire::Request ask;
        ask.mutable_create_link_code();
        for (int i = 0; i < 5; ++i) {  // devices 2..6
          auto code = primary.call(ask);
          auto linked = ctx.open().call(
              link_request(code->create_link_code().code(), crypto::KeyPair::generate()));
          EXPECT_TRUE(linked.ok() && linked->status() == 0);
        }
        auto code = primary.call(ask);
        return frame_of(link_request(code->create_link_code().code(), crypto::KeyPair::generate()));
      },
      E::kResourceExhausted, After::kOpen});

  // ---- Primary-only requests from a linked device ---------------------------------------------
  cases.push_back(request(
      "create_link_code from a linked device", State::kSignedInLinked,
      [](CaseContext&, wire::Request& r) { r.mutable_create_link_code(); }, E::kPermissionDenied,
      After::kOpen));
  cases.push_back(request(
      "set_username from a linked device", State::kSignedInLinked,
      [](CaseContext&, wire::Request& r) {
        r.mutable_set_username()->set_username(unique_username("linked_"));
      },
      E::kPermissionDenied, After::kOpen));
  cases.push_back(request(
      "set_device_list from a linked device", State::kSignedInLinked,
      [](CaseContext&, wire::Request& r) {
        r.mutable_set_device_list()->set_signed_device_list("list");
      },
      E::kPermissionDenied, After::kOpen));
  cases.push_back(request(
      "remove_device from a linked device", State::kSignedInLinked,
      [](CaseContext&, wire::Request& r) { r.mutable_remove_device()->set_device_id(2); },
      E::kPermissionDenied, After::kOpen));
  cases.push_back(request(
      "delete_account from a linked device", State::kSignedInLinked,
      [](CaseContext&, wire::Request& r) { r.mutable_delete_account(); }, E::kPermissionDenied,
      After::kOpen));
  cases.push_back(request(
      "get_devices of its own account from a linked device", State::kSignedInLinked,
      [](CaseContext& ctx, wire::Request& r) {
        r.mutable_get_devices()->set_account_id(str(ctx.self.account_id));
      },
      E::kOk, After::kOpen));

  // ---- Device list and removal ------------------------------------------------------------------
  cases.push_back(request(
      "set_device_list empty", State::kSignedIn,
      [](CaseContext&, wire::Request& r) { r.mutable_set_device_list(); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(request(
      "set_device_list of 4097 bytes", State::kSignedIn,
      [](CaseContext&, wire::Request& r) {
        r.mutable_set_device_list()->set_signed_device_list(filler(4097));
      },
      E::kTooLarge, After::kClose));
  cases.push_back(request(
      "set_device_list of 4096 bytes", State::kSignedIn,
      [](CaseContext&, wire::Request& r) {
        r.mutable_set_device_list()->set_signed_device_list(filler(4096));
      },
      E::kOk, After::kOpen));
  cases.push_back(request(
      "remove_device 0", State::kSignedIn,
      [](CaseContext&, wire::Request& r) { r.mutable_remove_device()->set_device_id(0); },
      E::kMalformedInput, After::kClose));
  cases.push_back(request(
      "remove_device 1 (the primary)", State::kSignedIn,
      [](CaseContext&, wire::Request& r) { r.mutable_remove_device()->set_device_id(1); },
      E::kFailedPrecondition, After::kOpen));
  cases.push_back(request(
      "remove_device that does not exist", State::kSignedIn,
      [](CaseContext&, wire::Request& r) { r.mutable_remove_device()->set_device_id(5); },
      E::kNotFound, After::kOpen));
  cases.push_back(request(
      "remove_device 2^32-1", State::kSignedIn,
      [](CaseContext&, wire::Request& r) { r.mutable_remove_device()->set_device_id(0xFFFFFFFFu); },
      E::kNotFound, After::kOpen));
  cases.push_back(request(
      "get_devices with a 15-byte account id", State::kSignedIn,
      [](CaseContext&, wire::Request& r) {
        r.mutable_get_devices()->set_account_id(random_field(15));
      },
      E::kMalformedInput, After::kClose));
  cases.push_back(request(
      "get_devices with no account id", State::kSignedIn,
      [](CaseContext&, wire::Request& r) { r.mutable_get_devices(); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(request(
      "get_devices of an unknown account", State::kSignedIn,
      [](CaseContext&, wire::Request& r) {
        r.mutable_get_devices()->set_account_id(random_field(16));
      },
      E::kNotFound, After::kOpen));

  // ---- Prekeys ----------------------------------------------------------------------------------
  auto upload = [&](std::string name,
                    const std::function<void(CaseContext&, wire::UploadPrekeysRequest&)>& fill,
                    E expected, After after) {
    cases.push_back(request(
        "upload_prekeys " + std::move(name), State::kSignedIn,
        [fill](CaseContext& ctx, wire::Request& r) { fill(ctx, *r.mutable_upload_prekeys()); },
        expected, after));
  };
  upload(
      "signed prekey signed by another key",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        add_signed_prekey(ctx, r);
        r.mutable_signed_prekey()->set_signature(str(crypto::xeddsa_sign(
            crypto::KeyPair::generate().private_key, as_bytes(r.signed_prekey().public_key()))));
      },
      E::kBadSignature, After::kOpen);
  upload(
      "signed prekey signature of zeros",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        add_signed_prekey(ctx, r);
        r.mutable_signed_prekey()->set_signature(filler(64, '\0'));
      },
      E::kBadSignature, After::kOpen);
  upload(
      "signed prekey whose key changed after signing",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        add_signed_prekey(ctx, r);
        r.mutable_signed_prekey()->set_public_key(public_key());
      },
      E::kBadSignature, After::kOpen);
  upload(
      "signed prekey public key of 32 bytes",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        add_signed_prekey(ctx, r);
        r.mutable_signed_prekey()->set_public_key(public_key().substr(1));
      },
      E::kMalformedInput, After::kClose);
  upload(
      "signed prekey public key of 34 bytes",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        add_signed_prekey(ctx, r);
        r.mutable_signed_prekey()->set_public_key(public_key() + "k");
      },
      E::kMalformedInput, After::kClose);
  upload(
      "signed prekey signature of 63 bytes",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        add_signed_prekey(ctx, r);
        r.mutable_signed_prekey()->set_signature(r.signed_prekey().signature().substr(1));
      },
      E::kMalformedInput, After::kClose);
  upload(
      "signed prekey present but empty",
      [](CaseContext&, wire::UploadPrekeysRequest& r) { r.mutable_signed_prekey(); },
      E::kMalformedInput, After::kClose);
  upload(
      "one-time prekey of 34 bytes",
      [](CaseContext&, wire::UploadPrekeysRequest& r) {
        add_one_time_prekeys(r, 1, 3);
        r.mutable_one_time_prekeys(1)->set_public_key(public_key() + "x");
      },
      E::kMalformedInput, After::kClose);
  upload(
      "one-time prekey empty",
      [](CaseContext&, wire::UploadPrekeysRequest& r) { r.add_one_time_prekeys(); },
      E::kMalformedInput, After::kClose);
  upload(
      "duplicate one-time prekey ids",
      [](CaseContext&, wire::UploadPrekeysRequest& r) {
        add_one_time_prekeys(r, 1, 5);
        r.mutable_one_time_prekeys(4)->set_key_id(2);
      },
      E::kMalformedInput, After::kClose);
  upload(
      "101 one-time prekeys",
      [](CaseContext&, wire::UploadPrekeysRequest& r) { add_one_time_prekeys(r, 1, 101); },
      E::kTooLarge, After::kClose);
  upload(
      "5000 one-time prekeys",
      [](CaseContext&, wire::UploadPrekeysRequest& r) { add_one_time_prekeys(r, 1, 5000); },
      E::kTooLarge, After::kClose);
  upload(
      "100 one-time prekeys (the limit)",
      [](CaseContext&, wire::UploadPrekeysRequest& r) { add_one_time_prekeys(r, 1, 100); }, E::kOk,
      After::kOpen);
  upload(
      "nothing (counts only)", [](CaseContext&, wire::UploadPrekeysRequest&) {}, E::kOk,
      After::kOpen);
  upload(
      "past 1000 stored one-time prekeys",
      [](CaseContext& ctx, wire::UploadPrekeysRequest& r) {
        for (std::uint32_t batch = 0; batch < 10; ++batch) {
          wire::Request fill;
          add_one_time_prekeys(*fill.mutable_upload_prekeys(), 1 + batch * 100, 100);
          auto stored = ctx.client.call(fill);
          EXPECT_TRUE(stored.ok() && stored->status() == 0);
        }
        add_one_time_prekeys(r, 5000, 1);
      },
      E::kResourceExhausted, After::kOpen);
  cases.push_back(request(
      "get_prekey_bundle with a 17-byte account id", State::kSignedIn,
      [](CaseContext&, wire::Request& r) {
        r.mutable_get_prekey_bundle()->set_account_id(random_field(17));
      },
      E::kMalformedInput, After::kClose));
  cases.push_back(request(
      "get_prekey_bundle of an unknown account", State::kSignedIn,
      [](CaseContext&, wire::Request& r) {
        r.mutable_get_prekey_bundle()->set_account_id(random_field(16));
      },
      E::kNotFound, After::kOpen));
  cases.push_back(request(
      "get_prekey_bundle of a device without a signed prekey", State::kSignedIn,
      [](CaseContext& ctx, wire::Request& r) {
        r.mutable_get_prekey_bundle()->set_account_id(str(ctx.world.bob.account_id));
        r.mutable_get_prekey_bundle()->set_device_id(1);
      },
      E::kNotFound, After::kOpen));
  cases.push_back(request(
      "get_prekey_bundle of a device that does not exist", State::kSignedIn,
      [](CaseContext& ctx, wire::Request& r) {
        r.mutable_get_prekey_bundle()->set_account_id(str(ctx.world.bob.account_id));
        r.mutable_get_prekey_bundle()->set_device_id(9);
      },
      E::kNotFound, After::kOpen));
  cases.push_back(request(
      "get_prekey_bundle of every device, none with keys", State::kSignedIn,
      [](CaseContext& ctx, wire::Request& r) {
        r.mutable_get_prekey_bundle()->set_account_id(str(ctx.world.bob.account_id));
      },
      E::kOk, After::kOpen));
}

}  // namespace parley::testing
