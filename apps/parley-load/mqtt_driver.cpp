// SPDX-License-Identifier: AGPL-3.0-or-later
#include "drivers.h"

namespace parley::load {

Result<ScenarioReport> run_mqtt(const LoadConfig&) {
  return Status::error(ErrorCode::kUnimplemented, "the mqtt driver is not built yet");
}

}  // namespace parley::load
