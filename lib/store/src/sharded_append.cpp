// SPDX-License-Identifier: AGPL-3.0-or-later
// ShardedStore::append_messages: one message whose copies may live on several backends.

#include <map>

#include "parley/store/sharded_store.h"
#include "validation.h"

namespace parley::store {

Result<AppendResult> ShardedStore::append_messages(const AppendRequest& request) {
  PARLEY_RETURN_IF_ERROR(validate_append(request));
  // Which envelopes go to which backend, remembering their place in the request.
  std::map<std::size_t, std::vector<std::size_t>> parts;
  for (std::size_t i = 0; i < request.envelopes.size(); ++i) {
    parts[map_.backend_of(request.envelopes[i].recipient.account_id)].push_back(i);
  }
  if (parts.size() == 1) return backends_[parts.begin()->first]->append_messages(request);

  // Several backends: refuse up front what one backend would refuse, with the same error (the
  // lowest unknown address first, then the lowest full mailbox), so that the usual failures
  // write nothing anywhere. A retry with the same dedupe key skips this: parts already written
  // answer as duplicates.
  std::map<DeviceAddress, std::uint64_t> added;
  for (const NewEnvelope& envelope : request.envelopes) ++added[envelope.recipient];
  for (const auto& [address, count] : added) {
    Result<Device> device = home(address.account_id).get_device(address);
    if (!device.ok()) return device.status();
  }
  if (request.max_queue_per_device != 0) {
    for (const auto& [address, count] : added) {
      PARLEY_ASSIGN_OR_RETURN(std::uint64_t queued,
                              home(address.account_id).count_messages(address));
      if (queued + count > request.max_queue_per_device) {
        return queue_full_error(address, request.max_queue_per_device);
      }
    }
  }

  AppendResult result;
  result.copies.resize(request.envelopes.size());
  result.duplicate = true;
  for (const auto& [backend, indexes] : parts) {
    AppendRequest part;
    part.dedupe_key = request.dedupe_key;
    part.now_ms = request.now_ms;
    part.max_queue_per_device = request.max_queue_per_device;
    part.shared_payload = request.shared_payload;  // stored by each backend that refers to it
    for (std::size_t i : indexes) part.envelopes.push_back(request.envelopes[i]);
    PARLEY_ASSIGN_OR_RETURN(AppendResult written, backends_[backend]->append_messages(part));
    for (std::size_t k = 0; k < indexes.size() && k < written.copies.size(); ++k) {
      result.copies[indexes[k]] = written.copies[k];
    }
    result.duplicate = result.duplicate && written.duplicate;
  }
  return result;
}

}  // namespace parley::store
