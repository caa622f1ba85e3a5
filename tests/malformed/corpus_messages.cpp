// SPDX-License-Identifier: AGPL-3.0-or-later
// Sending (one-to-one and group), acks, and every request that needs a signed-in connection sent
// before signing in.
#include "corpus.h"

namespace parley::testing {
namespace {

using E = ErrorCode;

// A send to bob's only device that passes every check; `change` breaks it.
Case send(std::string name,
          const std::function<void(CaseContext&, wire::SendMessageRequest&)>& change, E expected,
          After after) {
  return Case{"send_message " + std::move(name), State::kSignedIn,
              [change](CaseContext& ctx) {
                wire::Request r;
                auto* body = r.mutable_send_message();
                body->set_recipient_account_id(str(ctx.world.bob.account_id));
                body->set_client_message_id(random_field(16));
                auto* copy = body->add_copies();
                copy->set_device_id(1);
                copy->set_ciphertext("ciphertext");
                change(ctx, *body);
                return frame_of(r);
              },
              expected, after};
}

// A group send to bob's only device that passes every check; `change` breaks it.
Case group(std::string name,
           const std::function<void(CaseContext&, wire::SendGroupMessageRequest&)>& change,
           E expected, After after) {
  return Case{"send_group_message " + std::move(name), State::kSignedIn,
              [change](CaseContext& ctx) {
                wire::Request r;
                auto* body = r.mutable_send_group_message();
                body->set_client_message_id(random_field(16));
                body->set_ciphertext("sender key message");
                auto* member = body->add_recipients();
                member->set_account_id(str(ctx.world.bob.account_id));
                member->add_device_ids(1);
                change(ctx, *body);
                return frame_of(r);
              },
              expected, after};
}

void add_copies(wire::SendMessageRequest& r, std::uint32_t first, std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) {
    auto* copy = r.add_copies();
    copy->set_device_id(first + i);
    copy->set_ciphertext("c");
  }
}

void add_unknown_recipients(wire::SendGroupMessageRequest& r, int n) {
  for (int i = 0; i < n; ++i) {
    auto* member = r.add_recipients();
    member->set_account_id(random_field(16));
    member->add_device_ids(1);
  }
}

Case ack(std::string name, const std::function<void(wire::AckMessagesRequest&)>& fill, E expected,
         After after) {
  return Case{"ack_messages " + std::move(name), State::kSignedIn,
              [fill](CaseContext&) {
                wire::Request r;
                fill(*r.mutable_ack_messages());
                return frame_of(r);
              },
              expected, after};
}

}  // namespace

void add_message_cases(std::vector<Case>& cases) {
  auto none = [](CaseContext&, auto&) {};
  // ---- One-to-one sends -------------------------------------------------------------------------
  cases.push_back(send("valid (control)", none, E::kOk, After::kOpen));
  cases.push_back(send(
      "recipient id of 15 bytes",
      [](CaseContext&, auto& r) { r.set_recipient_account_id(random_field(15)); },
      E::kMalformedInput, After::kClose));
  cases.push_back(send(
      "recipient id of 17 bytes",
      [](CaseContext&, auto& r) { r.set_recipient_account_id(random_field(17)); },
      E::kMalformedInput, After::kClose));
  cases.push_back(send(
      "unknown recipient",
      [](CaseContext&, auto& r) { r.set_recipient_account_id(random_field(16)); }, E::kNotFound,
      After::kOpen));
  cases.push_back(send(
      "client message id of 7 bytes",
      [](CaseContext&, auto& r) { r.set_client_message_id(random_field(7)); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(send(
      "client message id empty", [](CaseContext&, auto& r) { r.clear_client_message_id(); },
      E::kMalformedInput, After::kClose));
  cases.push_back(send(
      "client message id of 8 bytes",
      [](CaseContext&, auto& r) { r.set_client_message_id(random_field(8)); }, E::kOk,
      After::kOpen));
  cases.push_back(send(
      "client message id of 64 bytes",
      [](CaseContext&, auto& r) { r.set_client_message_id(random_field(64)); }, E::kOk,
      After::kOpen));
  cases.push_back(send(
      "client message id of 65 bytes",
      [](CaseContext&, auto& r) { r.set_client_message_id(random_field(65)); }, E::kTooLarge,
      After::kClose));
  cases.push_back(send(
      "no copies", [](CaseContext&, auto& r) { r.clear_copies(); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(send(
      "17 copies",
      [](CaseContext&, auto& r) {
        r.clear_copies();
        add_copies(r, 1, 17);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(send(
      "16 copies for a one-device recipient",
      [](CaseContext&, auto& r) {
        r.clear_copies();
        add_copies(r, 1, 16);
      },
      E::kDeviceMismatch, After::kOpen));
  cases.push_back(send(
      "20000 copies",
      [](CaseContext&, auto& r) {
        r.clear_copies();
        add_copies(r, 1, 20000);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(send(
      "copy for device 0", [](CaseContext&, auto& r) { r.mutable_copies(0)->set_device_id(0); },
      E::kMalformedInput, After::kClose));
  cases.push_back(send(
      "two copies for device 1", [](CaseContext&, auto& r) { add_copies(r, 1, 1); },
      E::kMalformedInput, After::kClose));
  cases.push_back(send(
      "empty ciphertext", [](CaseContext&, auto& r) { r.mutable_copies(0)->clear_ciphertext(); },
      E::kMalformedInput, After::kClose));
  cases.push_back(send(
      "ciphertext of 64 KiB",
      [](CaseContext&, auto& r) { r.mutable_copies(0)->set_ciphertext(filler(65536)); }, E::kOk,
      After::kOpen));
  cases.push_back(send(
      "ciphertext of 64 KiB + 1",
      [](CaseContext&, auto& r) { r.mutable_copies(0)->set_ciphertext(filler(65537)); },
      E::kTooLarge, After::kClose));
  cases.push_back(send(
      "missing bob's device 1 (copy for device 2 instead)",
      [](CaseContext&, auto& r) { r.mutable_copies(0)->set_device_id(2); }, E::kDeviceMismatch,
      After::kOpen));
  cases.push_back(send(
      "an extra copy for a device bob does not have",
      [](CaseContext&, auto& r) { add_copies(r, 3, 1); }, E::kDeviceMismatch, After::kOpen));
  cases.push_back(send(
      "to its own account, which has no other device",
      [](CaseContext& ctx, auto& r) { r.set_recipient_account_id(str(ctx.self.account_id)); },
      E::kDeviceMismatch, After::kOpen));

  // ---- Group sends ------------------------------------------------------------------------------
  cases.push_back(group("valid (control)", none, E::kOk, After::kOpen));
  cases.push_back(group(
      "client message id of 7 bytes",
      [](CaseContext&, auto& r) { r.set_client_message_id(random_field(7)); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(group(
      "client message id of 65 bytes",
      [](CaseContext&, auto& r) { r.set_client_message_id(random_field(65)); }, E::kTooLarge,
      After::kClose));
  cases.push_back(group(
      "empty ciphertext", [](CaseContext&, auto& r) { r.clear_ciphertext(); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(group(
      "ciphertext of 64 KiB + 1", [](CaseContext&, auto& r) { r.set_ciphertext(filler(65537)); },
      E::kTooLarge, After::kClose));
  cases.push_back(group(
      "ciphertext of 64 KiB", [](CaseContext&, auto& r) { r.set_ciphertext(filler(65536)); },
      E::kOk, After::kOpen));
  cases.push_back(group(
      "no recipients", [](CaseContext&, auto& r) { r.clear_recipients(); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(group(
      "1001 recipients", [](CaseContext&, auto& r) { add_unknown_recipients(r, 1000); },
      E::kTooLarge, After::kClose));
  cases.push_back(group(
      "1000 recipients, 999 of them unknown",
      [](CaseContext&, auto& r) { add_unknown_recipients(r, 999); }, E::kDeviceMismatch,
      After::kOpen));
  cases.push_back(group(
      "bob twice",
      [](CaseContext& ctx, auto& r) {
        auto* again = r.add_recipients();
        again->set_account_id(str(ctx.world.bob.account_id));
        again->add_device_ids(1);
      },
      E::kMalformedInput, After::kClose));
  cases.push_back(group(
      "recipient account id of 15 bytes",
      [](CaseContext&, auto& r) { r.mutable_recipients(0)->set_account_id(random_field(15)); },
      E::kMalformedInput, After::kClose));
  cases.push_back(group(
      "recipient without devices",
      [](CaseContext&, auto& r) { r.mutable_recipients(0)->clear_device_ids(); },
      E::kMalformedInput, After::kClose));
  cases.push_back(group(
      "recipient with 17 devices",
      [](CaseContext&, auto& r) {
        for (std::uint32_t d = 2; d <= 17; ++d) r.mutable_recipients(0)->add_device_ids(d);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(group(
      "recipient with device 0",
      [](CaseContext&, auto& r) { r.mutable_recipients(0)->set_device_ids(0, 0); },
      E::kMalformedInput, After::kClose));
  cases.push_back(group(
      "recipient with device 1 twice",
      [](CaseContext&, auto& r) { r.mutable_recipients(0)->add_device_ids(1); }, E::kMalformedInput,
      After::kClose));
  cases.push_back(group(
      "an unknown recipient account", [](CaseContext&, auto& r) { add_unknown_recipients(r, 1); },
      E::kDeviceMismatch, After::kOpen));
  cases.push_back(group(
      "bob with a device he does not have",
      [](CaseContext&, auto& r) { r.mutable_recipients(0)->add_device_ids(4); }, E::kDeviceMismatch,
      After::kOpen));
  cases.push_back(group(
      "own account with no other device",
      [](CaseContext& ctx, auto& r) {
        auto* self = r.add_recipients();
        self->set_account_id(str(ctx.self.account_id));
        self->add_device_ids(1);
      },
      E::kDeviceMismatch, After::kOpen));

  // ---- Acks -----------------------------------------------------------------------------------
  cases.push_back(ack(
      "with no seqs", [](auto&) {}, E::kMalformedInput, After::kClose));
  cases.push_back(ack(
      "seq 0", [](auto& r) { r.add_seqs(0); }, E::kMalformedInput, After::kClose));
  cases.push_back(ack(
      "seq 0 after valid ones",
      [](auto& r) {
        r.add_seqs(1);
        r.add_seqs(2);
        r.add_seqs(0);
      },
      E::kMalformedInput, After::kClose));
  cases.push_back(ack(
      "257 seqs",
      [](auto& r) {
        for (std::uint64_t s = 1; s <= 257; ++s) r.add_seqs(s);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(ack(
      "40000 seqs",
      [](auto& r) {
        for (int s = 0; s < 40000; ++s) r.add_seqs(1);
      },
      E::kTooLarge, After::kClose));
  cases.push_back(ack(
      "256 seqs nobody sent (idempotent)",
      [](auto& r) {
        for (std::uint64_t s = 1; s <= 256; ++s) r.add_seqs(s * 7919);
      },
      E::kOk, After::kOpen));
  cases.push_back(ack(
      "seq 2^64-1", [](auto& r) { r.add_seqs(~std::uint64_t{0}); }, E::kOk, After::kOpen));

  // ---- Requests that need a signed-in connection, sent before signing in ----------------------
  const std::vector<std::pair<std::string, std::function<void(CaseContext&, wire::Request&)>>>
      need_auth = {
          {"set_username",
           [](CaseContext&, wire::Request& r) {
             r.mutable_set_username()->set_username("someone");
           }},
          {"lookup_username",
           [](CaseContext& ctx, wire::Request& r) {
             r.mutable_lookup_username()->set_username(ctx.world.bob_username);
           }},
          {"delete_account", [](CaseContext&, wire::Request& r) { r.mutable_delete_account(); }},
          {"create_link_code",
           [](CaseContext&, wire::Request& r) { r.mutable_create_link_code(); }},
          {"set_device_list",
           [](CaseContext&, wire::Request& r) {
             r.mutable_set_device_list()->set_signed_device_list("list");
           }},
          {"get_devices",
           [](CaseContext& ctx, wire::Request& r) {
             r.mutable_get_devices()->set_account_id(str(ctx.world.bob.account_id));
           }},
          {"remove_device",
           [](CaseContext&, wire::Request& r) { r.mutable_remove_device()->set_device_id(2); }},
          {"upload_prekeys", [](CaseContext&, wire::Request& r) { r.mutable_upload_prekeys(); }},
          {"get_prekey_bundle",
           [](CaseContext& ctx, wire::Request& r) {
             r.mutable_get_prekey_bundle()->set_account_id(str(ctx.world.bob.account_id));
           }},
          {"send_message",
           [](CaseContext& ctx, wire::Request& r) {
             auto* body = r.mutable_send_message();
             body->set_recipient_account_id(str(ctx.world.bob.account_id));
             body->set_client_message_id("unauthenticated");
             add_copies(*body, 1, 1);
           }},
          {"ack_messages",
           [](CaseContext&, wire::Request& r) { r.mutable_ack_messages()->add_seqs(1); }},
          {"send_group_message",
           [](CaseContext& ctx, wire::Request& r) {
             auto* body = r.mutable_send_group_message();
             body->set_client_message_id("unauthenticated");
             body->set_ciphertext("x");
             auto* member = body->add_recipients();
             member->set_account_id(str(ctx.world.bob.account_id));
             member->add_device_ids(1);
           }},
          {"create_attachment",
           [](CaseContext&, wire::Request& r) { r.mutable_create_attachment()->set_size(10); }},
          {"upload_attachment_chunk",
           [](CaseContext& ctx, wire::Request& r) {
             auto* body = r.mutable_upload_attachment_chunk();
             body->set_attachment_id(str(ctx.world.bob_incomplete_attachment));
             body->set_offset(10);
             body->set_data("stolen");
           }},
          {"get_attachment",
           [](CaseContext& ctx, wire::Request& r) {
             r.mutable_get_attachment()->set_attachment_id(str(ctx.world.bob_complete_attachment));
           }},
          {"download_attachment_chunk",
           [](CaseContext& ctx, wire::Request& r) {
             auto* body = r.mutable_download_attachment_chunk();
             body->set_attachment_id(str(ctx.world.bob_complete_attachment));
             body->set_max_bytes(10);
           }},
      };
  for (const auto& [name, fill] : need_auth) {
    for (State state : {State::kFresh, State::kAuthChallenge}) {
      cases.push_back(
          Case{name + " before signing in" + (state == State::kFresh ? "" : " (challenge pending)"),
               state,
               [fill = fill](CaseContext& ctx) {
                 wire::Request r;
                 fill(ctx, r);
                 return frame_of(r);
               },
               E::kUnauthenticated, After::kOpen});
    }
  }
}

}  // namespace parley::testing
