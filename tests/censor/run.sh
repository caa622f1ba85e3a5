#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Builds and runs the censor simulator (needs root), then copies the results table it wrote into
# tests/censor/RESULTS.md. Extra arguments go to the test program, e.g.
#   tests/censor/run.sh --gtest_filter='*Freeze*'
# Environment: BUILD_DIR (default build/censor), and the test's knobs (README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build/censor}
export CCACHE_DIR=${CCACHE_DIR:-$root/build/.ccache} CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Debug}
fi
ninja -C "$build" -j "${JOBS:-2}" parley_censor_test
status=0
"$build/tests/censor/parley_censor_test" "$@" || status=$?
if [[ -f $build/tests/censor/RESULTS.md ]]; then
  cp "$build/tests/censor/RESULTS.md" "$root/tests/censor/RESULTS.md"
  echo "run.sh: results copied to tests/censor/RESULTS.md"
fi
exit $status
