// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Stored messages as the CLI shows them: one conversion from the client core's records to the
// MessageView that output.h renders, shared by `history` and `group history`.

#include <string>

#include "output.h"
#include "parley/client/client.h"

namespace parley::cli {

// "pending", "sent", "delivered", "read", "failed".
const char* status_name(client::MessageStatus status);

// `peer` is what the line names as the other side (a username, or the author in a group).
MessageView message_view(const client::MessageRecord& record, const std::string& peer);

// Adds the message's file (name, size, where it is, how far its transfer is) to `view`.
void add_file(MessageView& view, const client::AttachmentView& file);

}  // namespace parley::cli
