#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Runs clang-tidy (.clang-tidy) over our sources using a build's compile_commands.json and exits
# non-zero if it reports anything.
#
#   scripts/lint.sh                      # every tracked .cpp under lib/, apps/, tests/
#   scripts/lint.sh lib/client apps/parley lib/net/src/tcp.cpp   # only these files or folders
#
# Environment:
#   PARLEY_LINT_BUILD_DIR  build dir holding compile_commands.json (default build/dev; configured
#                          with the dev preset when it is the default and missing)
#   PARLEY_LINT_JOBS       parallel clang-tidy processes (default 2)
#   CLANG_TIDY             clang-tidy binary (default clang-tidy)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${PARLEY_LINT_BUILD_DIR:-build/dev}"
jobs="${PARLEY_LINT_JOBS:-2}"
tidy="${CLANG_TIDY:-clang-tidy}"

if [[ ! -f "$build_dir/compile_commands.json" ]]; then
  if [[ "$build_dir" == build/dev ]]; then
    cmake --preset dev >/dev/null
  else
    echo "lint: $build_dir/compile_commands.json not found" >&2
    exit 2
  fi
fi

# Only files the build knows: the fuzz targets are absent from non-fuzz builds and would be
# checked with guessed flags.
mapfile -t known < <(python3 -c '
import json, sys
for entry in json.load(open(sys.argv[1])):
    print(entry["file"])
' "$build_dir/compile_commands.json")
declare -A in_db=()
for f in "${known[@]}"; do in_db["$f"]=1; done

if (($# > 0)); then
  specs=()
  for p in "$@"; do
    p="${p%/}"
    if [[ -d "$p" ]]; then specs+=("$p/*.cpp"); else specs+=("$p"); fi
  done
else
  specs=('lib/*.cpp' 'apps/*.cpp' 'tests/*.cpp')
fi
mapfile -t candidates < <(git ls-files -- "${specs[@]}" | grep '\.cpp$' || true)

files=()
for f in "${candidates[@]}"; do
  if [[ -n "${in_db["$PWD/$f"]:-}" ]]; then
    files+=("$f")
  else
    echo "lint: skipping $f (not in $build_dir/compile_commands.json)" >&2
  fi
done
if ((${#files[@]} == 0)); then
  echo "lint: no files to check" >&2
  exit 2
fi

# The compile database may come from GCC, whose warning flags (e.g. -Wno-error=maybe-uninitialized)
# clang does not know: left as errors they would also silence every clang-analyzer check. Boost.Asio
# does not detect C++20 coroutines for clang on libstdc++, so the gateway would not parse without
# the two defines. Every finding is an error so the exit code tells.
printf '%s\0' "${files[@]}" |
  xargs -0 -n 1 -P "$jobs" "$tidy" -p "$build_dir" --quiet \
    --extra-arg=-Wno-unknown-warning-option \
    --extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT=1 --extra-arg=-DBOOST_ASIO_HAS_STD_COROUTINE=1 \
    --warnings-as-errors='*'
