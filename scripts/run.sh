#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# The run command: installs dependencies, builds the `release` preset and starts the main job.
# Re-runnable: builds are incremental and state is kept under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
cmake --preset release >/dev/null
cmake --build --preset release

if [[ -x build/release/apps/parleyd/parleyd ]]; then
  exec build/release/apps/parleyd/parleyd --data-dir data "$@"
fi

echo
echo "run.sh: built every library that exists so far (see ARCHITECTURE.md)."
echo "run.sh: the server, parleyd, is not written yet, so there is nothing to start."
echo "run.sh: run the test suite instead with: bash scripts/test.sh"
