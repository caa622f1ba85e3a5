// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// How the CLI reports failure: one line on stderr and an exit status scripts can branch on.

#include <string>

#include "parley/util/status.h"

namespace parley::cli {

// Exit statuses (sysexits.h numbers where one fits).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // usage, input or any other failure
inline constexpr int kExitParse = 2;         // the command line did not parse
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: the server could not be reached
inline constexpr int kExitTempFail = 75;     // EX_TEMPFAIL: queued, but not sent yet

// Connection-level failures: the server was not reached or the connection broke. Work that was
// queued survives them and is sent later.
bool is_network_error(ErrorCode code);

// The exit status for a failed Status: 69 for network errors, 1 otherwise.
int exit_code_for(const Status& status);

// "parley: <sentence> (error <number> <name>)" — always one line: newlines and other control
// characters in the message are replaced, and an empty message falls back to the code's
// description.
std::string error_line(const Status& status);

}  // namespace parley::cli
