// SPDX-License-Identifier: AGPL-3.0-or-later
#include "signal_stores.h"

#include <sodium.h>

namespace parley::interop::detail {
namespace {

InMemoryStores& self(void* user_data) {
  return *static_cast<InMemoryStores*>(user_data);
}

std::pair<std::string, std::int32_t> key_of(const signal_protocol_address* address) {
  return {std::string(address->name, address->name_len), address->device_id};
}

std::tuple<std::string, std::string, std::int32_t> key_of(
    const signal_protocol_sender_key_name* name) {
  return {std::string(name->group_id, name->group_id_len),
          std::string(name->sender.name, name->sender.name_len), name->sender.device_id};
}

// libsignal frees what we return, so hand out fresh copies.
int copy_out(const RecordBytes& bytes, signal_buffer** out) {
  *out = signal_buffer_create(bytes.data(), bytes.size());
  return *out != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

void wipe(RecordBytes& bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

// --- sessions --------------------------------------------------------------------------------

int load_session(signal_buffer** record, signal_buffer** /*user_record*/,
                 const signal_protocol_address* address, void* user_data) {
  auto& sessions = self(user_data).sessions;
  auto it = sessions.find(key_of(address));
  if (it == sessions.end()) return 0;
  int rc = copy_out(it->second, record);
  return rc < 0 ? rc : 1;
}

int sub_device_sessions(signal_int_list** out, const char* name, std::size_t name_len,
                        void* user_data) {
  signal_int_list* list = signal_int_list_alloc();
  if (list == nullptr) return SG_ERR_NOMEM;
  const std::string wanted(name, name_len);
  for (const auto& [key, record] : self(user_data).sessions) {
    if (key.first == wanted && signal_int_list_push_back(list, key.second) < 0) {
      signal_int_list_free(list);
      return SG_ERR_NOMEM;
    }
  }
  *out = list;
  return static_cast<int>(signal_int_list_size(list));
}

int store_session(const signal_protocol_address* address, std::uint8_t* record,
                  std::size_t record_len, std::uint8_t* /*user_record*/,
                  std::size_t /*user_record_len*/, void* user_data) {
  auto& slot = self(user_data).sessions[key_of(address)];
  wipe(slot);
  slot.assign(record, record + record_len);
  return SG_SUCCESS;
}

int contains_session(const signal_protocol_address* address, void* user_data) {
  return self(user_data).sessions.count(key_of(address)) != 0 ? 1 : 0;
}

int delete_session(const signal_protocol_address* address, void* user_data) {
  auto& sessions = self(user_data).sessions;
  auto it = sessions.find(key_of(address));
  if (it == sessions.end()) return 0;
  wipe(it->second);
  sessions.erase(it);
  return 1;
}

int delete_all_sessions(const char* name, std::size_t name_len, void* user_data) {
  auto& sessions = self(user_data).sessions;
  const std::string wanted(name, name_len);
  int deleted = 0;
  for (auto it = sessions.begin(); it != sessions.end();) {
    if (it->first.first == wanted) {
      wipe(it->second);
      it = sessions.erase(it);
      ++deleted;
    } else {
      ++it;
    }
  }
  return deleted;
}

// --- one-time and signed prekeys (same shape, different maps) --------------------------------

template <std::map<std::uint32_t, RecordBytes> InMemoryStores::*Map>
int load_key(signal_buffer** record, std::uint32_t id, void* user_data) {
  auto& map = self(user_data).*Map;
  auto it = map.find(id);
  if (it == map.end()) return SG_ERR_INVALID_KEY_ID;
  return copy_out(it->second, record);
}

template <std::map<std::uint32_t, RecordBytes> InMemoryStores::*Map>
int store_key(std::uint32_t id, std::uint8_t* record, std::size_t record_len, void* user_data) {
  auto& slot = (self(user_data).*Map)[id];
  wipe(slot);
  slot.assign(record, record + record_len);
  return SG_SUCCESS;
}

template <std::map<std::uint32_t, RecordBytes> InMemoryStores::*Map>
int contains_key(std::uint32_t id, void* user_data) {
  return (self(user_data).*Map).count(id) != 0 ? 1 : 0;
}

template <std::map<std::uint32_t, RecordBytes> InMemoryStores::*Map>
int remove_key(std::uint32_t id, void* user_data) {
  auto& map = self(user_data).*Map;
  auto it = map.find(id);
  if (it != map.end()) {
    wipe(it->second);
    map.erase(it);
  }
  return SG_SUCCESS;
}

// --- identity ----------------------------------------------------------------------------------

int get_identity_key_pair(signal_buffer** public_data, signal_buffer** private_data,
                          void* user_data) {
  InMemoryStores& s = self(user_data);
  if (int rc = copy_out(s.identity_public, public_data); rc < 0) return rc;
  if (int rc = copy_out(s.identity_private, private_data); rc < 0) {
    signal_buffer_free(*public_data);
    *public_data = nullptr;
    return rc;
  }
  return SG_SUCCESS;
}

int get_local_registration_id(void* user_data, std::uint32_t* registration_id) {
  *registration_id = self(user_data).registration_id;
  return SG_SUCCESS;
}

int save_identity(const signal_protocol_address* address, std::uint8_t* key_data,
                  std::size_t key_len, void* user_data) {
  auto& identities = self(user_data).identities;
  const std::string name(address->name, address->name_len);
  if (key_data == nullptr) {
    identities.erase(name);
  } else {
    identities[name].assign(key_data, key_data + key_len);
  }
  return SG_SUCCESS;
}

// Trust on first use: unknown names are trusted; a known name must present the same key.
int is_trusted_identity(const signal_protocol_address* address, std::uint8_t* key_data,
                        std::size_t key_len, void* user_data) {
  auto& identities = self(user_data).identities;
  auto it = identities.find(std::string(address->name, address->name_len));
  if (it == identities.end()) return 1;
  return RecordBytes(key_data, key_data + key_len) == it->second ? 1 : 0;
}

// --- sender keys -------------------------------------------------------------------------------

int store_sender_key(const signal_protocol_sender_key_name* name, std::uint8_t* record,
                     std::size_t record_len, std::uint8_t* /*user_record*/,
                     std::size_t /*user_record_len*/, void* user_data) {
  auto& slot = self(user_data).sender_keys[key_of(name)];
  wipe(slot);
  slot.assign(record, record + record_len);
  return SG_SUCCESS;
}

int load_sender_key(signal_buffer** record, signal_buffer** /*user_record*/,
                    const signal_protocol_sender_key_name* name, void* user_data) {
  auto& keys = self(user_data).sender_keys;
  auto it = keys.find(key_of(name));
  if (it == keys.end()) return 0;
  int rc = copy_out(it->second, record);
  return rc < 0 ? rc : 1;
}

}  // namespace

InMemoryStores::~InMemoryStores() {
  wipe(identity_private);
  for (auto& [k, v] : sessions) wipe(v);
  for (auto& [k, v] : pre_keys) wipe(v);
  for (auto& [k, v] : signed_pre_keys) wipe(v);
  for (auto& [k, v] : sender_keys) wipe(v);
}

int install_stores(signal_protocol_store_context* store_context, InMemoryStores* stores) {
  // The stores are owned by the peer, not by libsignal, so no destroy callbacks are set.
  signal_protocol_session_store session_store{};
  session_store.load_session_func = load_session;
  session_store.get_sub_device_sessions_func = sub_device_sessions;
  session_store.store_session_func = store_session;
  session_store.contains_session_func = contains_session;
  session_store.delete_session_func = delete_session;
  session_store.delete_all_sessions_func = delete_all_sessions;
  session_store.user_data = stores;

  signal_protocol_pre_key_store pre_key_store{};
  pre_key_store.load_pre_key = load_key<&InMemoryStores::pre_keys>;
  pre_key_store.store_pre_key = store_key<&InMemoryStores::pre_keys>;
  pre_key_store.contains_pre_key = contains_key<&InMemoryStores::pre_keys>;
  pre_key_store.remove_pre_key = remove_key<&InMemoryStores::pre_keys>;
  pre_key_store.user_data = stores;

  signal_protocol_signed_pre_key_store signed_store{};
  signed_store.load_signed_pre_key = load_key<&InMemoryStores::signed_pre_keys>;
  signed_store.store_signed_pre_key = store_key<&InMemoryStores::signed_pre_keys>;
  signed_store.contains_signed_pre_key = contains_key<&InMemoryStores::signed_pre_keys>;
  signed_store.remove_signed_pre_key = remove_key<&InMemoryStores::signed_pre_keys>;
  signed_store.user_data = stores;

  signal_protocol_identity_key_store identity_store{};
  identity_store.get_identity_key_pair = get_identity_key_pair;
  identity_store.get_local_registration_id = get_local_registration_id;
  identity_store.save_identity = save_identity;
  identity_store.is_trusted_identity = is_trusted_identity;
  identity_store.user_data = stores;

  signal_protocol_sender_key_store sender_store{};
  sender_store.store_sender_key = store_sender_key;
  sender_store.load_sender_key = load_sender_key;
  sender_store.user_data = stores;

  int rc = signal_protocol_store_context_set_session_store(store_context, &session_store);
  if (rc == 0) rc = signal_protocol_store_context_set_pre_key_store(store_context, &pre_key_store);
  if (rc == 0) {
    rc = signal_protocol_store_context_set_signed_pre_key_store(store_context, &signed_store);
  }
  if (rc == 0) {
    rc = signal_protocol_store_context_set_identity_key_store(store_context, &identity_store);
  }
  if (rc == 0) {
    rc = signal_protocol_store_context_set_sender_key_store(store_context, &sender_store);
  }
  return rc;
}

}  // namespace parley::interop::detail
