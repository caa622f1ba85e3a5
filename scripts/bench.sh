#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Builds the `release` preset and runs the benchmark programs, each measuring Parley and its peer
# in the same process (results tables: bench/README.md): parley_crypto_bench (Parley vs
# libsignal-protocol-c), then parley_server_bench (frames, RocksDbStore, fan-out, ServerCore vs
# bare protobuf, raw RocksDB, full copies, the store alone). Dependencies: scripts/install-deps.sh.
#   scripts/bench.sh                                     # every benchmark (crypto: 5 repetitions,
#                                                        # server: 10 short ones, interleaved)
#   scripts/bench.sh --benchmark_filter=SessionSetup     # extra arguments go to each program
#   PARLEY_BENCH_ONLY=server scripts/bench.sh            # one program: crypto or server
#   PARLEY_BENCH_BUILD_DIR=build/other scripts/bench.sh  # another build directory
# Only the benchmarks' own output goes to stdout (build log and load lines go to stderr), so
# `PARLEY_BENCH_ONLY=server scripts/bench.sh --benchmark_format=json` prints one JSON document.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${PARLEY_BENCH_BUILD_DIR:-build/release}
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}

case ${PARLEY_BENCH_ONLY:-} in
  "") programs=(crypto server) ;;
  crypto | server) programs=("$PARLEY_BENCH_ONLY") ;;
  *) echo "bench.sh: PARLEY_BENCH_ONLY must be crypto or server" >&2; exit 2 ;;
esac

cmake --preset release -B "$build" >/dev/null
targets=()
for program in "${programs[@]}"; do targets+=("parley_${program}_bench"); done
cmake --build "$build" --target "${targets[@]}" >&2

for program in "${programs[@]}"; do
  # The server program's store rows wait on a disk other jobs share: many short repetitions in
  # random order across benchmarks, so a slow spell of the disk hits both sides of a pair alike.
  flags=(--benchmark_repetitions=5)
  [[ $program == server ]] && flags=(--benchmark_repetitions=10 --benchmark_min_time=0.2
    --benchmark_enable_random_interleaving=true)
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "bench.sh: parley_${program}_bench, $(nproc) cores, load average $load" >&2
  "$build/bench/parley_${program}_bench" "${flags[@]}" \
    --benchmark_report_aggregates_only=true "$@"
done
