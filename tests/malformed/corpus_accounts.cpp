// SPDX-License-Identifier: AGPL-3.0-or-later
// Sign-up (challenge, proof of work, signature, username), sign-in (challenge, signature,
// replays) and usernames.
#include <gtest/gtest.h>

#include "corpus.h"
#include "parley/crypto/random.h"
#include "parley/crypto/xeddsa.h"
#include "parley/proto/pow.h"
#include "parley/proto/signed_messages.h"

namespace parley::testing {
namespace {

using E = ErrorCode;

// A nonce with fewer than `bits` leading zero bits for `challenge` (most nonces are).
std::string weak_nonce(const std::string& challenge, std::uint32_t bits, const std::string& seed) {
  for (int i = 0;; ++i) {
    std::string nonce = seed + std::to_string(i);
    if (!proto::pow_is_valid(as_bytes(challenge), as_bytes(nonce), bits)) return nonce;
  }
}

// The authenticate request `account` would send for `challenge`, signed by `key`.
wire::Request authenticate_request(const std::string& challenge, const Bytes& account_id,
                                   std::uint32_t device_id, const crypto::PrivateKey& key) {
  wire::Request r;
  auto* body = r.mutable_authenticate();
  body->set_account_id(str(account_id));
  body->set_device_id(device_id);
  body->set_challenge(challenge);
  body->set_signature(str(crypto::xeddsa_sign(
      key, proto::auth_signed_bytes(as_bytes(challenge), account_id, device_id))));
  return r;
}

// Sign-up on a kRegistration connection with everything valid except what `change` alters.
Case signup(std::string name,
            const std::function<void(CaseContext&, wire::CreateAccountRequest&,
                                     const crypto::KeyPair&)>& change,
            E expected, After after = After::kOpen) {
  return Case{"sign-up: " + std::move(name), State::kRegistration,
              [change](CaseContext& ctx) {
                crypto::KeyPair identity = crypto::KeyPair::generate();
                wire::Request r = valid_create_account(ctx, identity);
                change(ctx, *r.mutable_create_account(), identity);
                return frame_of(r);
              },
              expected, after};
}

// Re-signs a changed create_account with `identity` so only the changed field is wrong.
void resign(CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair& identity) {
  (void)ctx;
  r.set_signature(str(crypto::xeddsa_sign(
      identity.private_key,
      proto::registration_signed_bytes(as_bytes(r.challenge()), as_bytes(r.identity_key())))));
}

// The three requests that carry a username, each with `username`.
void username_cases(std::vector<Case>& cases, const std::string& label, const std::string& name,
                    E expected, After after) {
  cases.push_back(signup(
      "username " + label,
      [name](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_username(name);
      },
      expected, after));
  cases.push_back(Case{"set_username " + label, State::kSignedIn,
                       [name](CaseContext&) {
                         wire::Request r;
                         r.mutable_set_username()->set_username(name);
                         return frame_of(r);
                       },
                       expected, after});
  cases.push_back(Case{"lookup_username " + label, State::kSignedIn,
                       [name](CaseContext&) {
                         wire::Request r;
                         r.mutable_lookup_username()->set_username(name);
                         return frame_of(r);
                       },
                       expected, after});
}

}  // namespace

void add_account_cases(std::vector<Case>& cases) {
  // ---- Sign-up: challenge -------------------------------------------------------------------
  cases.push_back(Case{"sign-up without requesting a challenge", State::kFresh,
                       [](CaseContext& ctx) {
                         ctx.challenge = random_field(32);
                         ctx.difficulty = kPowBits;
                         return frame_of(valid_create_account(ctx, crypto::KeyPair::generate()));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(signup(
      "a random challenge",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair& id) {
        r.set_challenge(random_field(32));
        r.set_pow_nonce(str(proto::pow_solve(as_bytes(r.challenge()), ctx.difficulty)));
        resign(ctx, r, id);
      },
      E::kChallengeInvalid));
  cases.push_back(signup(
      "the challenge with its last bit flipped",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair& id) {
        std::string c = r.challenge();
        c.back() = static_cast<char>(c.back() ^ 1);
        r.set_challenge(c);
        r.set_pow_nonce(str(proto::pow_solve(as_bytes(c), ctx.difficulty)));
        resign(ctx, r, id);
      },
      E::kChallengeInvalid));
  cases.push_back(Case{"sign-up with an auth challenge instead", State::kAuthChallenge,
                       [](CaseContext& ctx) {
                         ctx.difficulty = kPowBits;
                         return frame_of(valid_create_account(ctx, crypto::KeyPair::generate()));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"sign-up with another connection's challenge", State::kRegistration,
                       [](CaseContext& ctx) {
                         wire::Request ask;
                         ask.mutable_registration_challenge();
                         auto other = ctx.open().call(ask);
                         EXPECT_TRUE(other.ok());
                         CaseContext foreign{ctx.world, ctx.client};
                         foreign.challenge = other->registration_challenge().challenge();
                         foreign.difficulty = ctx.difficulty;
                         return frame_of(
                             valid_create_account(foreign, crypto::KeyPair::generate()));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"sign-up replays a challenge spent by a failed attempt",
                       State::kRegistration,
                       [](CaseContext& ctx) {
                         crypto::KeyPair identity = crypto::KeyPair::generate();
                         wire::Request bad = valid_create_account(ctx, identity);
                         bad.mutable_create_account()->set_signature(filler(64, 's'));
                         auto first = ctx.client.call(bad);
                         EXPECT_TRUE(first.ok() && first->status() == 301);
                         return frame_of(valid_create_account(ctx, identity));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(
      Case{"sign-up replays a challenge spent by a successful sign-up", State::kRegistration,
           [](CaseContext& ctx) {
             auto first = ctx.client.call(valid_create_account(ctx, crypto::KeyPair::generate()));
             EXPECT_TRUE(first.ok() && first->status() == 0);
             return frame_of(valid_create_account(ctx, crypto::KeyPair::generate()));
           },
           E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"sign-up with a challenge replaced by a newer one", State::kRegistration,
                       [](CaseContext& ctx) {
                         wire::Request ask;
                         ask.mutable_registration_challenge();
                         auto newer = ctx.client.call(ask);
                         EXPECT_TRUE(newer.ok() && newer->status() == 0);
                         return frame_of(valid_create_account(ctx, crypto::KeyPair::generate()));
                       },
                       E::kChallengeInvalid, After::kOpen});

  // ---- Sign-up: proof of work ---------------------------------------------------------------
  cases.push_back(signup(
      "proof of work insufficient",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_pow_nonce(weak_nonce(ctx.challenge, ctx.difficulty, "weak"));
      },
      E::kBadProofOfWork));
  cases.push_back(signup(
      "proof of work nonce empty (insufficient)",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        // The empty nonce works for 1 in 256 challenges; then use another weak one.
        r.set_pow_nonce(proto::pow_is_valid(as_bytes(ctx.challenge), {}, ctx.difficulty)
                            ? weak_nonce(ctx.challenge, ctx.difficulty, "e")
                            : "");
      },
      E::kBadProofOfWork));
  cases.push_back(signup(
      "proof of work solved for another challenge",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        for (;;) {
          Bytes other = proto::pow_solve(crypto::random_bytes(32), ctx.difficulty);
          if (!proto::pow_is_valid(as_bytes(ctx.challenge), other, ctx.difficulty)) {
            r.set_pow_nonce(str(other));
            return;
          }
        }
      },
      E::kBadProofOfWork));
  cases.push_back(signup(
      "proof of work with 64-byte nonce, insufficient",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_pow_nonce(weak_nonce(ctx.challenge, ctx.difficulty, filler(63, 'w')));
        // Counters past 9 make the nonce longer than 64 bytes: then try another filler.
        if (r.pow_nonce().size() != 64) {
          r.set_pow_nonce(weak_nonce(ctx.challenge, ctx.difficulty, filler(62, 'v')));
        }
      },
      E::kBadProofOfWork));
  cases.push_back(signup(
      "proof of work nonce of 65 bytes",
      [](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_pow_nonce(filler(65));
      },
      E::kTooLarge, After::kClose));
  cases.push_back(signup(
      "proof of work nonce of 64 bytes that solves it",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        for (std::uint32_t i = 0;; ++i) {
          std::string nonce = filler(56, 'p') + std::to_string(100000000 + i).substr(1);
          if (proto::pow_is_valid(as_bytes(ctx.challenge), as_bytes(nonce), ctx.difficulty)) {
            r.set_pow_nonce(nonce);
            return;
          }
        }
      },
      E::kOk));

  // ---- Sign-up: field sizes -----------------------------------------------------------------
  auto sized = [&](const std::string& field, std::size_t size, E expected) {
    cases.push_back(signup(
        field + " of " + std::to_string(size) + " bytes",
        [field, size](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
          std::string value = filler(size, '\x05');
          if (field == "identity_key") r.set_identity_key(value);
          if (field == "challenge") r.set_challenge(value);
          if (field == "signature") r.set_signature(value);
        },
        expected, After::kClose));
  };
  sized("identity_key", 0, E::kMalformedInput);
  sized("identity_key", 32, E::kMalformedInput);
  sized("identity_key", 34, E::kMalformedInput);
  sized("challenge", 0, E::kMalformedInput);
  sized("challenge", 31, E::kMalformedInput);
  sized("challenge", 33, E::kMalformedInput);
  sized("signature", 0, E::kMalformedInput);
  sized("signature", 63, E::kMalformedInput);
  sized("signature", 65, E::kMalformedInput);

  // ---- Sign-up: bad keys and wrong signatures -------------------------------------------------
  auto key_type = [&](std::uint8_t type) {
    cases.push_back(signup(
        "identity key with type byte " + std::to_string(type),
        [type](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair& id) {
          std::string key = r.identity_key();
          key[0] = static_cast<char>(type);
          r.set_identity_key(key);
          resign(ctx, r, id);
        },
        E::kInvalidKey));
  };
  key_type(0x00);
  key_type(0x04);
  key_type(0x06);
  key_type(0xFF);
  cases.push_back(signup(
      "signature by another key",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        resign(ctx, r, crypto::KeyPair::generate());
      },
      E::kBadSignature));
  cases.push_back(signup(
      "signature with one bit flipped",
      [](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        std::string s = r.signature();
        s[10] = static_cast<char>(s[10] ^ 0x01);
        r.set_signature(s);
      },
      E::kBadSignature));
  cases.push_back(signup(
      "signature of zeros",
      [](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_signature(filler(64, '\0'));
      },
      E::kBadSignature));
  cases.push_back(signup(
      "signature over the auth domain instead of the register domain",
      [](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair& id) {
        r.set_signature(str(crypto::xeddsa_sign(
            id.private_key, proto::auth_signed_bytes(as_bytes(r.challenge()),
                                                     as_bytes(r.identity_key()).first(16), 1))));
      },
      E::kBadSignature));
  cases.push_back(signup(
      "signature over another challenge",
      [](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair& id) {
        r.set_signature(str(crypto::xeddsa_sign(
            id.private_key, proto::registration_signed_bytes(crypto::random_bytes(32),
                                                             as_bytes(r.identity_key())))));
      },
      E::kBadSignature));
  cases.push_back(signup(
      "identity key swapped for another valid key",
      [](CaseContext&, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_identity_key(str(crypto::KeyPair::generate().public_key.serialize()));
      },
      E::kBadSignature));
  cases.push_back(signup(
      "identity key u = 0 (low order point)",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair& id) {
        r.set_identity_key(std::string(1, '\x05') + filler(32, '\0'));
        resign(ctx, r, id);
      },
      E::kBadSignature));
  cases.push_back(signup(
      "identity key already registered (bob's)",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        // Only bob can sign for his key; we cannot, so this must fail on the signature.
        r.set_identity_key(str(ctx.world.bob.identity.public_key.serialize()));
      },
      E::kBadSignature));
  cases.push_back(Case{"sign-up while signed in", State::kSignedIn,
                       [](CaseContext& ctx) {
                         ctx.challenge = random_field(32);
                         ctx.difficulty = kPowBits;
                         return frame_of(valid_create_account(ctx, crypto::KeyPair::generate()));
                       },
                       E::kFailedPrecondition, After::kOpen});
  cases.push_back(Case{"registration challenge while signed in", State::kSignedIn,
                       [](CaseContext&) {
                         wire::Request r;
                         r.mutable_registration_challenge();
                         return frame_of(r);
                       },
                       E::kFailedPrecondition, After::kOpen});

  // ---- Usernames, in all three requests that carry one ----------------------------------------
  const struct {
    const char* label;
    std::string name;
  } bad_names[] = {
      {"of 2 characters", "ab"},
      {"of 1 character", "a"},
      {"of 33 characters", filler(33, 'a')},
      {"of 64 bytes", filler(64, 'b')},
      {"with a space", "bad name"},
      {"with a dash", "bad-name"},
      {"with an at sign", "@badname"},
      {"with a slash", "bad/name"},
      {"with a NUL byte", std::string("bad\0name", 8)},
      {"with a newline", "bad\nname"},
      {"with a tab", "bad\tname"},
      {"with an ANSI escape", "\x1b[31mred"},
      {"in UTF-8 (e acute)", "caf\xc3\xa9"},
      {"in Cyrillic look-alikes", "\xd0\xb0\xd0\xb5\xd0\xbe"},
      {"with invalid UTF-8 (lone continuation byte)", "ab\x80"},
      {"with invalid UTF-8 (truncated sequence)", "abc\xe2\x82"},
      {"with overlong UTF-8 for '/' (C0 AF)", "ab\xc0\xaf"},
      {"with overlong UTF-8 for 'a' (E0 81 A1)", "ab\xe0\x81\xa1"},
      {"with a UTF-16 surrogate in UTF-8", "ab\xed\xa0\x80"},
      {"with 0xFF bytes", "\xff\xff\xff"},
      {"with a right-to-left override",
       "ab\xe2\x80\xae"
       "cd"},
      {"with a zero-width space",
       "ab\xe2\x80\x8b"
       "cd"},
      {"with fullwidth letters", "\xef\xbd\x81\xef\xbd\x82\xef\xbd\x83"},
  };
  for (const auto& bad : bad_names) {
    username_cases(cases, std::string("username ") + bad.label, bad.name, E::kInvalidUsername,
                   After::kOpen);
  }
  username_cases(cases, "of 65 bytes", filler(65, 'c'), E::kTooLarge, After::kClose);
  username_cases(cases, "of 1000 bytes", filler(1000, 'c'), E::kTooLarge, After::kClose);
  cases.push_back(Case{"lookup_username empty", State::kSignedIn,
                       [](CaseContext&) {
                         wire::Request r;
                         r.mutable_lookup_username();
                         return frame_of(r);
                       },
                       E::kMalformedInput, After::kClose});
  cases.push_back(Case{"lookup_username nobody has", State::kSignedIn,
                       [](CaseContext&) {
                         wire::Request r;
                         r.mutable_lookup_username()->set_username(unique_username("nobody_"));
                         return frame_of(r);
                       },
                       E::kNotFound, After::kOpen});
  cases.push_back(Case{"lookup_username bob's in upper case", State::kSignedIn,
                       [](CaseContext& ctx) {
                         std::string name = ctx.world.bob_username;
                         for (char& c : name) c = static_cast<char>(std::toupper(c));
                         wire::Request r;
                         r.mutable_lookup_username()->set_username(name);
                         return frame_of(r);
                       },
                       E::kOk, After::kOpen});
  cases.push_back(Case{"set_username taken by bob", State::kSignedIn,
                       [](CaseContext& ctx) {
                         wire::Request r;
                         r.mutable_set_username()->set_username(ctx.world.bob_username);
                         return frame_of(r);
                       },
                       E::kAlreadyExists, After::kOpen});
  cases.push_back(Case{"set_username taken by bob, differently cased", State::kSignedIn,
                       [](CaseContext& ctx) {
                         std::string name = ctx.world.bob_username;
                         name[0] = static_cast<char>(std::toupper(name[0]));
                         wire::Request r;
                         r.mutable_set_username()->set_username(name);
                         return frame_of(r);
                       },
                       E::kAlreadyExists, After::kOpen});
  cases.push_back(signup(
      "username taken by bob",
      [](CaseContext& ctx, wire::CreateAccountRequest& r, const crypto::KeyPair&) {
        r.set_username(ctx.world.bob_username);
      },
      E::kAlreadyExists));
  cases.push_back(Case{"set_username of exactly 32 characters", State::kSignedIn,
                       [](CaseContext&) {
                         std::string name = unique_username("n32_");
                         name += filler(32 - name.size(), 'z');
                         wire::Request r;
                         r.mutable_set_username()->set_username(name);
                         return frame_of(r);
                       },
                       E::kOk, After::kOpen});
  cases.push_back(Case{"set_username of 3 characters with dot and underscore", State::kSignedIn,
                       [](CaseContext&) {
                         wire::Request r;
                         r.mutable_set_username()->set_username("a._");
                         return frame_of(r);
                       },
                       E::kOk, After::kOpen});
  cases.push_back(Case{"set_username empty removes it", State::kSignedIn,
                       [](CaseContext&) {
                         wire::Request r;
                         r.mutable_set_username();
                         return frame_of(r);
                       },
                       E::kOk, After::kOpen});

  // ---- Sign-in --------------------------------------------------------------------------------
  auto bob_auth = [](CaseContext& ctx, const std::string& challenge) {
    const TestAccount& bob = ctx.world.bob;
    return authenticate_request(challenge, bob.account_id, 1, bob.identity.private_key);
  };
  cases.push_back(
      Case{"authenticate without requesting a challenge", State::kFresh,
           [bob_auth](CaseContext& ctx) { return frame_of(bob_auth(ctx, random_field(32))); },
           E::kChallengeInvalid, After::kOpen});
  cases.push_back(
      Case{"authenticate with a random challenge", State::kAuthChallenge,
           [bob_auth](CaseContext& ctx) { return frame_of(bob_auth(ctx, random_field(32))); },
           E::kChallengeInvalid, After::kOpen});
  cases.push_back(
      Case{"authenticate with the registration challenge", State::kRegistration,
           [bob_auth](CaseContext& ctx) { return frame_of(bob_auth(ctx, ctx.challenge)); },
           E::kChallengeInvalid, After::kOpen});
  cases.push_back(
      Case{"authenticate replays another connection's successful sign-in", State::kAuthChallenge,
           [bob_auth](CaseContext& ctx) {
             ProtoClient& other = ctx.open();
             wire::Request ask;
             ask.mutable_auth_challenge();
             auto challenge = other.call(ask);
             EXPECT_TRUE(challenge.ok());
             wire::Request auth = bob_auth(ctx, challenge->auth_challenge().challenge());
             auto done = other.call(auth);
             EXPECT_TRUE(done.ok() && done->status() == 0);
             return frame_of(auth);  // the same bytes on this connection
           },
           E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"authenticate replays its own challenge after a failed attempt",
                       State::kAuthChallenge,
                       [bob_auth](CaseContext& ctx) {
                         wire::Request bad = bob_auth(ctx, ctx.challenge);
                         bad.mutable_authenticate()->set_signature(filler(64, 'q'));
                         auto first = ctx.client.call(bad);
                         EXPECT_TRUE(first.ok() && first->status() == 301);
                         return frame_of(bob_auth(ctx, ctx.challenge));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"authenticate after a newer challenge replaced it", State::kAuthChallenge,
                       [bob_auth](CaseContext& ctx) {
                         wire::Request ask;
                         ask.mutable_auth_challenge();
                         auto newer = ctx.client.call(ask);
                         EXPECT_TRUE(newer.ok() && newer->status() == 0);
                         return frame_of(bob_auth(ctx, ctx.challenge));
                       },
                       E::kChallengeInvalid, After::kOpen});
  cases.push_back(Case{"authenticate signed by another key", State::kAuthChallenge,
                       [](CaseContext& ctx) {
                         crypto::KeyPair mallory = crypto::KeyPair::generate();
                         return frame_of(authenticate_request(
                             ctx.challenge, ctx.world.bob.account_id, 1, mallory.private_key));
                       },
                       E::kBadSignature, After::kOpen});
  cases.push_back(
      Case{"authenticate signature over another device id", State::kAuthChallenge,
           [bob_auth](CaseContext& ctx) {
             wire::Request r = bob_auth(ctx, ctx.challenge);
             const TestAccount& bob = ctx.world.bob;
             r.mutable_authenticate()->set_signature(str(crypto::xeddsa_sign(
                 bob.identity.private_key,
                 proto::auth_signed_bytes(as_bytes(ctx.challenge), bob.account_id, 2))));
             return frame_of(r);
           },
           E::kBadSignature, After::kOpen});
  cases.push_back(Case{"authenticate signature over the register domain", State::kAuthChallenge,
                       [bob_auth](CaseContext& ctx) {
                         wire::Request r = bob_auth(ctx, ctx.challenge);
                         const TestAccount& bob = ctx.world.bob;
                         r.mutable_authenticate()->set_signature(str(crypto::xeddsa_sign(
                             bob.identity.private_key,
                             proto::registration_signed_bytes(
                                 as_bytes(ctx.challenge), bob.identity.public_key.serialize()))));
                         return frame_of(r);
                       },
                       E::kBadSignature, After::kOpen});
  cases.push_back(Case{"authenticate signature with one bit flipped", State::kAuthChallenge,
                       [bob_auth](CaseContext& ctx) {
                         wire::Request r = bob_auth(ctx, ctx.challenge);
                         std::string s = r.authenticate().signature();
                         s[63] = static_cast<char>(s[63] ^ 0x40);
                         r.mutable_authenticate()->set_signature(s);
                         return frame_of(r);
                       },
                       E::kBadSignature, After::kOpen});
  cases.push_back(Case{"authenticate as an account that does not exist", State::kAuthChallenge,
                       [](CaseContext& ctx) {
                         crypto::KeyPair key = crypto::KeyPair::generate();
                         return frame_of(authenticate_request(
                             ctx.challenge, crypto::random_bytes(16), 1, key.private_key));
                       },
                       E::kNotFound, After::kOpen});
  cases.push_back(Case{"authenticate as bob's device 7 (none)", State::kAuthChallenge,
                       [](CaseContext& ctx) {
                         const TestAccount& bob = ctx.world.bob;
                         return frame_of(authenticate_request(ctx.challenge, bob.account_id, 7,
                                                              bob.identity.private_key));
                       },
                       E::kNotFound, After::kOpen});
  cases.push_back(Case{"authenticate while signed in", State::kSignedIn,
                       [](CaseContext& ctx) {
                         return frame_of(authenticate_request(random_field(32), ctx.self.account_id,
                                                              1, ctx.self.identity.private_key));
                       },
                       E::kFailedPrecondition, After::kOpen});
  cases.push_back(Case{"auth challenge while signed in", State::kSignedIn,
                       [](CaseContext&) {
                         wire::Request r;
                         r.mutable_auth_challenge();
                         return frame_of(r);
                       },
                       E::kFailedPrecondition, After::kOpen});
  auto auth_sized = [&](const std::string& what,
                        const std::function<void(wire::AuthenticateRequest&)>& change, E expected) {
    cases.push_back(Case{"authenticate " + what, State::kAuthChallenge,
                         [bob_auth, change](CaseContext& ctx) {
                           wire::Request r = bob_auth(ctx, ctx.challenge);
                           change(*r.mutable_authenticate());
                           return frame_of(r);
                         },
                         expected, After::kClose});
  };
  auth_sized(
      "account_id of 15 bytes", [](auto& r) { r.set_account_id(r.account_id().substr(0, 15)); },
      E::kMalformedInput);
  auth_sized(
      "account_id of 17 bytes", [](auto& r) { r.set_account_id(r.account_id() + "x"); },
      E::kMalformedInput);
  auth_sized(
      "device_id 0", [](auto& r) { r.set_device_id(0); }, E::kMalformedInput);
  auth_sized(
      "challenge of 31 bytes", [](auto& r) { r.set_challenge(r.challenge().substr(1)); },
      E::kMalformedInput);
  auth_sized(
      "challenge of 64 bytes", [](auto& r) { r.set_challenge(filler(64)); }, E::kMalformedInput);
  auth_sized(
      "signature of 63 bytes", [](auto& r) { r.set_signature(r.signature().substr(1)); },
      E::kMalformedInput);
  auth_sized(
      "signature missing", [](auto& r) { r.clear_signature(); }, E::kMalformedInput);
}

}  // namespace parley::testing
