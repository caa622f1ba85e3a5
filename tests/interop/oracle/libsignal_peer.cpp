// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libsignal_peer.h"

#include <fingerprint.h>
#include <group_cipher.h>
#include <group_session_builder.h>
#include <key_helper.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <signal_protocol.h>

#include <chrono>
#include <utility>

#include "signal_crypto_provider.h"
#include "signal_handles.h"
#include "signal_stores.h"

namespace parley::interop {

using detail::Buffer;
using detail::Ref;

namespace {

// A libsignal global context with our crypto provider; destroyed with its owner.
class Context {
 public:
  Context() {
    if (signal_context_create(&ctx_, nullptr) != 0) return;
    if (detail::install_crypto_provider(ctx_) != 0) {
      signal_context_destroy(ctx_);
      ctx_ = nullptr;
    }
  }
  ~Context() {
    if (ctx_ != nullptr) signal_context_destroy(ctx_);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  signal_context* get() const { return ctx_; }

 private:
  signal_context* ctx_ = nullptr;
};

// For the stateless helpers: they only need the provider, never a store.
signal_context* shared_context() {
  static Context context;
  return context.get();
}

OracleBytes serialize_public(const ec_public_key* key) {
  Buffer buffer;
  if (ec_public_key_serialize(buffer.out(), key) != 0) return {};
  return buffer.bytes();
}

int decode_public(Ref<ec_public_key>& out, const OracleBytes& bytes, signal_context* ctx) {
  if (bytes.empty()) return SG_ERR_INVALID_KEY;
  return curve_decode_point(out.out(), bytes.data(), bytes.size(), ctx);
}

// Holds an address whose name outlives the libsignal objects that keep a pointer to it.
struct CAddress {
  explicit CAddress(const OracleAddress& a) : name(a.name) {
    address.name = name.c_str();
    address.name_len = name.size();
    address.device_id = a.device_id;
  }
  CAddress(const CAddress&) = delete;
  CAddress& operator=(const CAddress&) = delete;
  std::string name;
  signal_protocol_address address{};
};

struct CSenderKeyName {
  CSenderKeyName(const std::string& group, const OracleAddress& sender)
      : group_id(group), sender_name(sender.name) {
    name.group_id = group_id.c_str();
    name.group_id_len = group_id.size();
    name.sender.name = sender_name.c_str();
    name.sender.name_len = sender_name.size();
    name.sender.device_id = sender.device_id;
  }
  CSenderKeyName(const CSenderKeyName&) = delete;
  CSenderKeyName& operator=(const CSenderKeyName&) = delete;
  std::string group_id;
  std::string sender_name;
  signal_protocol_sender_key_name name{};
};

}  // namespace

struct LibsignalPeer::Impl {
  OracleAddress self;
  Context context;
  detail::InMemoryStores stores;
  signal_protocol_store_context* store = nullptr;

  ~Impl() {
    // The store context points at `stores` and `context`; it goes first.
    if (store != nullptr) signal_protocol_store_context_destroy(store);
  }

  int init(const ec_public_key* identity_public, const ec_private_key* identity_private,
           std::uint32_t registration_id) {
    if (context.get() == nullptr) return SG_ERR_UNKNOWN;
    Buffer pub;
    Buffer priv;
    if (int rc = ec_public_key_serialize(pub.out(), identity_public); rc != 0) return rc;
    if (int rc = ec_private_key_serialize(priv.out(), identity_private); rc != 0) return rc;
    stores.identity_public = pub.bytes();
    stores.identity_private = priv.bytes();
    stores.registration_id = registration_id;
    if (int rc = signal_protocol_store_context_create(&store, context.get()); rc != 0) return rc;
    return detail::install_stores(store, &stores);
  }

  int identity_key_pair(Ref<ratchet_identity_key_pair>& out) {
    return signal_protocol_identity_get_key_pair(store, out.out());
  }
};

LibsignalPeer::LibsignalPeer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LibsignalPeer::~LibsignalPeer() = default;

std::unique_ptr<LibsignalPeer> LibsignalPeer::create(std::string name, std::int32_t device_id) {
  auto impl = std::make_unique<Impl>();
  impl->self = {std::move(name), device_id};
  signal_context* ctx = impl->context.get();
  if (ctx == nullptr) return nullptr;
  Ref<ratchet_identity_key_pair> identity;
  std::uint32_t registration_id = 0;
  if (signal_protocol_key_helper_generate_identity_key_pair(identity.out(), ctx) != 0 ||
      signal_protocol_key_helper_generate_registration_id(&registration_id, 0, ctx) != 0) {
    return nullptr;
  }
  if (impl->init(ratchet_identity_key_pair_get_public(identity.get()),
                 ratchet_identity_key_pair_get_private(identity.get()), registration_id) != 0) {
    return nullptr;
  }
  return std::unique_ptr<LibsignalPeer>(new LibsignalPeer(std::move(impl)));
}

std::unique_ptr<LibsignalPeer> LibsignalPeer::create_with_identity(
    std::string name, std::int32_t device_id, const OracleBytes& identity_private,
    std::uint32_t registration_id) {
  auto impl = std::make_unique<Impl>();
  impl->self = {std::move(name), device_id};
  signal_context* ctx = impl->context.get();
  if (ctx == nullptr) return nullptr;
  Ref<ec_private_key> priv;
  Ref<ec_public_key> pub;
  if (curve_decode_private_point(priv.out(), identity_private.data(), identity_private.size(),
                                 ctx) != 0 ||
      curve_generate_public_key(pub.out(), priv.get()) != 0) {
    return nullptr;
  }
  if (impl->init(pub.get(), priv.get(), registration_id) != 0) return nullptr;
  return std::unique_ptr<LibsignalPeer>(new LibsignalPeer(std::move(impl)));
}

const OracleAddress& LibsignalPeer::address() const {
  return impl_->self;
}
std::uint32_t LibsignalPeer::registration_id() const {
  return impl_->stores.registration_id;
}
OracleBytes LibsignalPeer::identity_public() const {
  return impl_->stores.identity_public;
}
OracleBytes LibsignalPeer::identity_private() const {
  return impl_->stores.identity_private;
}

OracleResult<OracleBundle> LibsignalPeer::make_bundle(
    std::uint32_t signed_pre_key_id, std::optional<std::uint32_t> one_time_pre_key_id) {
  signal_context* ctx = impl_->context.get();
  Ref<ratchet_identity_key_pair> identity;
  if (int rc = impl_->identity_key_pair(identity); rc != 0) return {rc};

  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  Ref<session_signed_pre_key> signed_pre_key;
  if (int rc = signal_protocol_key_helper_generate_signed_pre_key(
          signed_pre_key.out(), identity.get(), signed_pre_key_id,
          static_cast<std::uint64_t>(now.count()), ctx);
      rc != 0) {
    return {rc};
  }
  if (int rc = signal_protocol_signed_pre_key_store_key(impl_->store, signed_pre_key.get());
      rc != 0) {
    return {rc};
  }

  OracleBundle bundle;
  bundle.registration_id = impl_->stores.registration_id;
  bundle.device_id = impl_->self.device_id;
  bundle.identity_key = impl_->stores.identity_public;
  bundle.signed_pre_key_id = signed_pre_key_id;
  bundle.signed_pre_key_public = serialize_public(
      ec_key_pair_get_public(session_signed_pre_key_get_key_pair(signed_pre_key.get())));
  const std::uint8_t* signature = session_signed_pre_key_get_signature(signed_pre_key.get());
  bundle.signed_pre_key_signature.assign(
      signature, signature + session_signed_pre_key_get_signature_len(signed_pre_key.get()));

  if (one_time_pre_key_id) {
    Ref<ec_key_pair> pair;
    Ref<session_pre_key> pre_key;
    if (int rc = curve_generate_key_pair(ctx, pair.out()); rc != 0) return {rc};
    if (int rc = session_pre_key_create(pre_key.out(), *one_time_pre_key_id, pair.get()); rc != 0) {
      return {rc};
    }
    if (int rc = signal_protocol_pre_key_store_key(impl_->store, pre_key.get()); rc != 0) {
      return {rc};
    }
    bundle.pre_key_id = *one_time_pre_key_id;
    bundle.pre_key_public = serialize_public(ec_key_pair_get_public(pair.get()));
  }
  return {kSgOk, std::move(bundle)};
}

bool LibsignalPeer::has_pre_key(std::uint32_t pre_key_id) const {
  return impl_->stores.pre_keys.count(pre_key_id) != 0;
}

int LibsignalPeer::process_bundle(const OracleAddress& remote, const OracleBundle& bundle) {
  signal_context* ctx = impl_->context.get();
  Ref<ec_public_key> identity;
  Ref<ec_public_key> signed_pre_key;
  Ref<ec_public_key> pre_key;
  if (int rc = decode_public(identity, bundle.identity_key, ctx); rc != 0) return rc;
  if (int rc = decode_public(signed_pre_key, bundle.signed_pre_key_public, ctx); rc != 0) return rc;
  if (bundle.pre_key_id) {
    if (int rc = decode_public(pre_key, bundle.pre_key_public, ctx); rc != 0) return rc;
  }
  Ref<session_pre_key_bundle> c_bundle;
  if (int rc = session_pre_key_bundle_create(
          c_bundle.out(), bundle.registration_id, bundle.device_id, bundle.pre_key_id.value_or(0),
          pre_key.get(), bundle.signed_pre_key_id, signed_pre_key.get(),
          bundle.signed_pre_key_signature.data(), bundle.signed_pre_key_signature.size(),
          identity.get());
      rc != 0) {
    return rc;
  }
  CAddress address(remote);
  session_builder* builder = nullptr;
  if (int rc = session_builder_create(&builder, impl_->store, &address.address, ctx); rc != 0) {
    return rc;
  }
  int rc = session_builder_process_pre_key_bundle(builder, c_bundle.get());
  session_builder_free(builder);
  return rc;
}

bool LibsignalPeer::has_session(const OracleAddress& remote) const {
  return impl_->stores.sessions.count({remote.name, remote.device_id}) != 0;
}

OracleResult<OracleCiphertext> LibsignalPeer::encrypt(const OracleAddress& remote,
                                                      const OracleBytes& plaintext) {
  CAddress address(remote);
  session_cipher* cipher = nullptr;
  if (int rc = session_cipher_create(&cipher, impl_->store, &address.address, impl_->context.get());
      rc != 0) {
    return {rc};
  }
  Ref<ciphertext_message> message;
  int rc = session_cipher_encrypt(cipher, plaintext.data(), plaintext.size(), message.out());
  session_cipher_free(cipher);
  if (rc != 0) return {rc};
  const signal_buffer* serialized = ciphertext_message_get_serialized(message.get());
  const std::uint8_t* data = signal_buffer_const_data(serialized);
  return {kSgOk,
          {ciphertext_message_get_type(message.get()),
           OracleBytes(data, data + signal_buffer_len(serialized))}};
}

OracleResult<OracleBytes> LibsignalPeer::decrypt(const OracleAddress& remote, int type,
                                                 const OracleBytes& bytes) {
  signal_context* ctx = impl_->context.get();
  CAddress address(remote);
  session_cipher* cipher = nullptr;
  if (int rc = session_cipher_create(&cipher, impl_->store, &address.address, ctx); rc != 0) {
    return {rc};
  }
  Buffer plaintext;
  int rc = SG_ERR_INVALID_MESSAGE;
  if (type == kTypePreKey) {
    Ref<pre_key_signal_message> message;
    rc = pre_key_signal_message_deserialize(message.out(), bytes.data(), bytes.size(), ctx);
    if (rc == 0) {
      rc = session_cipher_decrypt_pre_key_signal_message(cipher, message.get(), nullptr,
                                                         plaintext.out());
    }
  } else if (type == kTypeSignal) {
    Ref<signal_message> message;
    rc = signal_message_deserialize(message.out(), bytes.data(), bytes.size(), ctx);
    if (rc == 0) {
      rc = session_cipher_decrypt_signal_message(cipher, message.get(), nullptr, plaintext.out());
    }
  }
  session_cipher_free(cipher);
  if (rc != 0) return {rc};
  return {kSgOk, plaintext.bytes()};
}

OracleResult<OracleBytes> LibsignalPeer::sender_key_distribution(const std::string& group_id) {
  CSenderKeyName name(group_id, impl_->self);
  group_session_builder* builder = nullptr;
  if (int rc = group_session_builder_create(&builder, impl_->store, impl_->context.get());
      rc != 0) {
    return {rc};
  }
  Ref<sender_key_distribution_message> message;
  int rc = group_session_builder_create_session(builder, message.out(), &name.name);
  group_session_builder_free(builder);
  if (rc != 0) return {rc};
  const signal_buffer* serialized =
      ciphertext_message_get_serialized(reinterpret_cast<ciphertext_message*>(message.get()));
  const std::uint8_t* data = signal_buffer_const_data(serialized);
  return {kSgOk, OracleBytes(data, data + signal_buffer_len(serialized))};
}

int LibsignalPeer::process_sender_key_distribution(const std::string& group_id,
                                                   const OracleAddress& sender,
                                                   const OracleBytes& distribution) {
  signal_context* ctx = impl_->context.get();
  Ref<sender_key_distribution_message> message;
  if (int rc = sender_key_distribution_message_deserialize(message.out(), distribution.data(),
                                                           distribution.size(), ctx);
      rc != 0) {
    return rc;
  }
  CSenderKeyName name(group_id, sender);
  group_session_builder* builder = nullptr;
  if (int rc = group_session_builder_create(&builder, impl_->store, ctx); rc != 0) return rc;
  int rc = group_session_builder_process_session(builder, &name.name, message.get());
  group_session_builder_free(builder);
  return rc;
}

OracleResult<OracleBytes> LibsignalPeer::group_encrypt(const std::string& group_id,
                                                       const OracleBytes& plaintext) {
  CSenderKeyName name(group_id, impl_->self);
  group_cipher* cipher = nullptr;
  if (int rc = group_cipher_create(&cipher, impl_->store, &name.name, impl_->context.get());
      rc != 0) {
    return {rc};
  }
  Ref<ciphertext_message> message;
  int rc = group_cipher_encrypt(cipher, plaintext.data(), plaintext.size(), message.out());
  group_cipher_free(cipher);
  if (rc != 0) return {rc};
  const signal_buffer* serialized = ciphertext_message_get_serialized(message.get());
  const std::uint8_t* data = signal_buffer_const_data(serialized);
  return {kSgOk, OracleBytes(data, data + signal_buffer_len(serialized))};
}

OracleResult<OracleBytes> LibsignalPeer::group_decrypt(const std::string& group_id,
                                                       const OracleAddress& sender,
                                                       const OracleBytes& bytes) {
  signal_context* ctx = impl_->context.get();
  Ref<sender_key_message> message;
  if (int rc = sender_key_message_deserialize(message.out(), bytes.data(), bytes.size(), ctx);
      rc != 0) {
    return {rc};
  }
  CSenderKeyName name(group_id, sender);
  group_cipher* cipher = nullptr;
  if (int rc = group_cipher_create(&cipher, impl_->store, &name.name, ctx); rc != 0) return {rc};
  Buffer plaintext;
  int rc = group_cipher_decrypt(cipher, message.get(), nullptr, plaintext.out());
  group_cipher_free(cipher);
  if (rc != 0) return {rc};
  return {kSgOk, plaintext.bytes()};
}

OracleResult<OracleBytes> LibsignalPeer::sign(const OracleBytes& message) {
  Ref<ratchet_identity_key_pair> identity;
  if (int rc = impl_->identity_key_pair(identity); rc != 0) return {rc};
  Buffer signature;
  if (int rc = curve_calculate_signature(impl_->context.get(), signature.out(),
                                         ratchet_identity_key_pair_get_private(identity.get()),
                                         message.data(), message.size());
      rc != 0) {
    return {rc};
  }
  return {kSgOk, signature.bytes()};
}

int oracle_verify_signature(const OracleBytes& public_key, const OracleBytes& message,
                            const OracleBytes& signature) {
  Ref<ec_public_key> key;
  if (int rc = decode_public(key, public_key, shared_context()); rc != 0) return rc;
  return curve_verify_signature(key.get(), message.data(), message.size(), signature.data(),
                                signature.size());
}

OracleResult<OracleFingerprint> oracle_fingerprint(const std::string& local_id,
                                                   const OracleBytes& local_key,
                                                   const std::string& remote_id,
                                                   const OracleBytes& remote_key, int iterations) {
  signal_context* ctx = shared_context();
  Ref<ec_public_key> local;
  Ref<ec_public_key> remote;
  if (int rc = decode_public(local, local_key, ctx); rc != 0) return {rc};
  if (int rc = decode_public(remote, remote_key, ctx); rc != 0) return {rc};
  fingerprint_generator* generator = nullptr;
  if (int rc = fingerprint_generator_create(&generator, iterations, 1, ctx); rc != 0) return {rc};
  Ref<fingerprint> result;
  int rc = fingerprint_generator_create_for(generator, local_id.c_str(), local.get(),
                                            remote_id.c_str(), remote.get(), result.out());
  fingerprint_generator_free(generator);
  if (rc != 0) return {rc};
  OracleFingerprint out;
  out.displayable = displayable_fingerprint_text(fingerprint_get_displayable(result.get()));
  Buffer scannable;
  if (int src =
          scannable_fingerprint_serialize(scannable.out(), fingerprint_get_scannable(result.get()));
      src != 0) {
    return {src};
  }
  out.scannable = scannable.bytes();
  return {kSgOk, std::move(out)};
}

OracleResult<OracleMessageInfo> oracle_inspect(int type, const OracleBytes& bytes) {
  signal_context* ctx = shared_context();
  OracleMessageInfo info;
  auto read_signal = [&](const signal_message* message) {
    info.version = signal_message_get_message_version(message);
    info.counter = signal_message_get_counter(message);
    info.ratchet_key = serialize_public(signal_message_get_sender_ratchet_key(message));
  };
  switch (type) {
    case kTypeSignal: {
      Ref<signal_message> message;
      if (int rc = signal_message_deserialize(message.out(), bytes.data(), bytes.size(), ctx);
          rc != 0) {
        return {rc};
      }
      read_signal(message.get());
      break;
    }
    case kTypePreKey: {
      Ref<pre_key_signal_message> message;
      if (int rc =
              pre_key_signal_message_deserialize(message.out(), bytes.data(), bytes.size(), ctx);
          rc != 0) {
        return {rc};
      }
      read_signal(pre_key_signal_message_get_signal_message(message.get()));
      info.version = pre_key_signal_message_get_message_version(message.get());
      if (pre_key_signal_message_has_pre_key_id(message.get())) {
        info.pre_key_id = pre_key_signal_message_get_pre_key_id(message.get());
      }
      info.signed_pre_key_id = pre_key_signal_message_get_signed_pre_key_id(message.get());
      info.registration_id = pre_key_signal_message_get_registration_id(message.get());
      break;
    }
    case kTypeSenderKey: {
      Ref<sender_key_message> message;
      if (int rc = sender_key_message_deserialize(message.out(), bytes.data(), bytes.size(), ctx);
          rc != 0) {
        return {rc};
      }
      info.version = bytes[0] >> 4;  // deserialize checked the version byte exists and is 3
      info.key_id = sender_key_message_get_key_id(message.get());
      info.iteration = sender_key_message_get_iteration(message.get());
      break;
    }
    case kTypeSenderKeyDistribution: {
      Ref<sender_key_distribution_message> message;
      if (int rc = sender_key_distribution_message_deserialize(message.out(), bytes.data(),
                                                               bytes.size(), ctx);
          rc != 0) {
        return {rc};
      }
      info.version = bytes[0] >> 4;
      info.key_id = sender_key_distribution_message_get_id(message.get());
      info.iteration = sender_key_distribution_message_get_iteration(message.get());
      break;
    }
    default:
      return {SG_ERR_INVAL};
  }
  return {kSgOk, std::move(info)};
}

}  // namespace parley::interop
