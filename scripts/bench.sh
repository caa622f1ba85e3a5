#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Builds the `release` preset and runs the crypto benchmark: Parley vs libsignal-protocol-c in the
# same process (results table: bench/README.md). Dependencies come from scripts/install-deps.sh.
#   scripts/bench.sh                                     # every benchmark, 5 repetitions
#   scripts/bench.sh --benchmark_filter=SessionSetup     # extra arguments go to the benchmark
#   PARLEY_BENCH_BUILD_DIR=build/other scripts/bench.sh  # another build directory
set -euo pipefail
cd "$(dirname "$0")/.."

build=${PARLEY_BENCH_BUILD_DIR:-build/release}
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}

cmake --preset release -B "$build" >/dev/null
cmake --build "$build" --target parley_crypto_bench

echo "bench.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/parley_crypto_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true "$@"
