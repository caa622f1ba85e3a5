#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# The test command: installs dependencies, builds, and runs the whole test suite through CTest.
#   scripts/test.sh            # the `dev` preset (Debug)
#   scripts/test.sh asan       # the same tests under AddressSanitizer + UBSan
#   scripts/test.sh dev -R Clock   # extra arguments go to ctest
# Re-runnable: builds are incremental (Ninja + ccache).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-dev}
shift || true

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}

start=$(date +%s)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
built=$(date +%s)
echo "test.sh: build ($preset) took $((built - start)) s"

ctest --preset "$preset" "$@"
echo "test.sh: tests ($preset) took $(($(date +%s) - built)) s"
