#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# The real parley-desktop binary, as a person starts it: --help and --version answer, and a start
# on a new home shows the first-run form and keeps running (no crash, no warning from Qt, nothing
# written to the home before the person chooses). The widgets themselves are driven by
# parley_desktop_e2e_test; this checks the program around them (flags, resources, start-up).
#   launch_test.sh <parley-desktop>
set -euo pipefail

binary=$1
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "launch_test: $*" >&2
  exit 1
}

help=$("$binary" --help 2>&1) || fail "--help exited with $?"
grep -q -- "--home" <<<"$help" || fail "--help does not mention --home: $help"
grep -q -- "--server" <<<"$help" || fail "--help does not mention --server: $help"
version=$("$binary" --version 2>&1) || fail "--version exited with $?"
grep -Eq '[0-9]+\.[0-9]+\.[0-9]+' <<<"$version" || fail "--version printed no version: $version"

# A session's runtime directory, as a desktop login provides (Qt warns without one).
mkdir -m 700 "$work/run"
export XDG_RUNTIME_DIR=$work/run
"$binary" --home "$work/home" >"$work/log" 2>&1 &
pid=$!
sleep 3
kill -0 "$pid" 2>/dev/null || fail "exited during start-up: $(cat "$work/log")"
# The first-run form waits for the person: no key, no database yet.
[[ ! -e $work/home/parley.db && ! -e $work/home/db.key ]] ||
  fail "the home was written before first run finished"
# Warnings Qt prints for a broken start (a missing icon resource, a bad connect) are bugs here.
if [[ -s $work/log ]]; then
  fail "unexpected output at start-up: $(cat "$work/log")"
fi
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
echo "launch_test: parley-desktop starts, shows first run and answers --help/--version"
