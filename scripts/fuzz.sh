#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Builds the `fuzz` preset (clang, libFuzzer, ASan + UBSan) and runs every fuzz target for N
# seconds from its seed corpus (fuzz/corpus/<target>/). Fails on the first crash, leak, sanitizer
# report or broken round-trip; the crashing input is left in build/fuzz/artifacts/<target>/.
#   scripts/fuzz.sh          # 30 s per target
#   scripts/fuzz.sh 10       # CI: a short run
# Longer local run, keeping what the fuzzer learns in a working corpus beside the seeds:
#   FUZZ_JOBS=2 scripts/fuzz.sh 3600
# Replay one input: build/fuzz/fuzz/parley_fuzz_<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
jobs=${FUZZ_JOBS:-1}
build=${PARLEY_FUZZ_BUILD_DIR:-build/fuzz}
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Crypto decoders (fuzz/), then the client->server frame decoder and the whole server core's
# dispatch against an in-memory store (lib/proto/fuzz, lib/server/fuzz), then parleyd's flags +
# TOML config parsing (apps/parleyd/fuzz), then what the client parses from the server and peers
# (lib/client/fuzz): signed device lists, signed group states with the acceptance rules (leave,
# tie-break, rebase), attachment decryption, the sanitizer for peers' file names, and a decrypted
# plaintext up to where the receiver needs its database (unpadding, Content, LinkProof).
# Seeds (fuzz/corpus/<target>/): crypto targets from parley_fuzz_seeds (fuzz/make_seeds.cpp);
# request (one valid Frame per request kind, plus refused ones) and core (multi-frame sequences in
# core_fuzzer.cpp's `[connection][length][frame]` format) from parley_fuzz_wire_seeds
# (fuzz/make_wire_seeds.cpp, deterministic: `build/fuzz/fuzz/parley_fuzz_wire_seeds fuzz/corpus`);
# config: hand-written (flags, one per line, then NUL, then TOML); device_list, group_state,
# attachment, file_name, content from parley_fuzz_client_seeds
# (lib/client/fuzz/make_client_seeds.cpp, deterministic, fixed test keys:
# `build/fuzz/lib/client/parley_fuzz_client_seeds fuzz/corpus`); relay_link, relay_request and
# dns_answer (lib/net/fuzz): hand-written seeds (share links, relay request heads, DNS answers).
targets=(signal_message prekey_signal_message sender_key_message sender_key_distribution
  public_key record request core config device_list group_state attachment file_name content
  relay_link relay_request dns_answer)
declare -A binary=([request]=lib/proto/parley_fuzz_request [core]=lib/server/parley_fuzz_core
  [config]=apps/parleyd/parley_fuzz_config [device_list]=lib/client/parley_fuzz_device_list
  [group_state]=lib/client/parley_fuzz_group_state [attachment]=lib/client/parley_fuzz_attachment
  [file_name]=lib/client/parley_fuzz_file_name [content]=lib/client/parley_fuzz_content
  [relay_link]=lib/net/parley_fuzz_relay_link [relay_request]=lib/net/parley_fuzz_relay_request
  [dns_answer]=lib/net/parley_fuzz_dns_answer)

cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" --target "${targets[@]/#/parley_fuzz_}"

failed=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t"       # grows as the fuzzer finds new coverage; seeds stay untouched
  artifacts="$build/artifacts/$t/"
  seeds="fuzz/corpus/$t"         # every target has committed seeds (see above)
  mkdir -p "$work" "$artifacts"
  if [[ ! -d $seeds ]]; then
    echo "fuzz.sh: no seed corpus $seeds" >&2
    exit 1
  fi
  echo "fuzz.sh: $t for ${seconds}s"
  parallel=()
  if [[ $jobs -gt 1 ]]; then parallel=(-fork="$jobs"); fi
  if ! "$build/${binary[$t]:-fuzz/parley_fuzz_$t}" -max_total_time="$seconds" "${parallel[@]}" \
      -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts" "$work" $seeds >"$build/fuzz-$t.log" 2>&1; then
    tail -n 40 "$build/fuzz-$t.log"
    failed+=("$t")
  else
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$build/fuzz-$t.log" | tail -n 1 || true
  fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s without a failure"
