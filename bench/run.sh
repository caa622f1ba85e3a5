#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Every benchmark in one run, and bench/RESULTS.md from it: Parley's server against the peers
# users would pick instead (mosquitto over MQTT, ejabberd over XMPP), driven by the same
# parley-load scenarios one after the other on this machine, then the micro-benchmarks
# (scripts/bench.sh). Needs root for the socket limits (see "limits" below); installs nothing:
# run scripts/install-deps.sh first.
#
#   bench/run.sh                       # full size for 2 cores: about 12 minutes after the build
#   PARLEY_BENCH_QUICK=1 bench/run.sh  # small sizes, about 3 minutes: checks the pipeline only
#   PARLEY_BENCH_BUILD_DIR=build/x bench/run.sh
#
# Sizes can be overridden one by one: PAIRS, DURATION, IDLE_CONNECTIONS, OFFLINE_PAIRS,
# OFFLINE_MESSAGES, GROUP_SIZE, THREADS (parley-load event loops), MICRO=0 (skip micro-benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=${PARLEY_BENCH_BUILD_DIR:-build/release}
export CCACHE_DIR=${CCACHE_DIR:-$root/build/.ccache}
if [[ -n ${PARLEY_BENCH_QUICK:-} ]]; then
  : "${PAIRS:=20}" "${DURATION:=3s}" "${WARMUP:=1s}" "${IDLE_CONNECTIONS:=1000}"
  : "${OFFLINE_PAIRS:=20}" "${OFFLINE_MESSAGES:=50}" "${GROUP_SIZE:=20}" "${MICRO:=0}"
fi
PAIRS=${PAIRS:-50}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-18000}
OFFLINE_PAIRS=${OFFLINE_PAIRS:-100}
OFFLINE_MESSAGES=${OFFLINE_MESSAGES:-100}
GROUP_SIZE=${GROUP_SIZE:-100}
THREADS=${THREADS:-1}
MICRO=${MICRO:-1}

echo "bench: building the release preset in $build"
cmake --preset release -B "$build" >/dev/null
cmake --build "$build" --target parleyd parley-load

work=$(mktemp -d /tmp/parley-bench-XXXXXX)
results=$work/results.jsonl
: >"$results"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash bench/peers/mosquitto.sh stop "$work/mosquitto" >/dev/null 2>&1 || true
  bash bench/peers/ejabberd.sh stop "$work/ejabberd" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Limits: 18,000 connections need as many file descriptors on each side (the hard limit here is
# 20,000 and cannot be raised) and ephemeral ports (spread over 127.0.0.2-21 as sources).
ulimit -n "$(ulimit -Hn)"
if [[ $(id -u) -eq 0 ]]; then
  sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.core.somaxconn=4096 \
    net.ipv4.tcp_max_syn_backlog=8192 2>/dev/null || echo "bench: could not set sysctls" >&2
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

load=$build/apps/parley-load/parley-load
# run <target> <scenario> <server pid> <port> [args...]: one parley-load run, its JSON line kept.
run() {
  local target=$1 scenario=$2 pid=$3 port=$4
  shift 4
  echo "bench: $target $scenario $*" >&2
  local line threads=(--threads "$THREADS")
  [[ " $* " == *" --threads "* ]] && threads=()
  if line=$("$load" "$scenario" --target "$target" --port "$port" --server-pid "$pid" \
    "${threads[@]}" --json "$@"); then :; else
    echo "bench: $target $scenario exited $? ($line)" >&2
  fi
  if [[ $line == \{* ]]; then
    echo "$line" | jq -c --arg args "$*" '. + {args: $args}' >>"$results"
    echo "$line" | jq -r '"  \(.delivered_per_second|floor) msg/s  p50 \(.latency_ns.p50/1e6) ms  p99 \(.latency_ns.p99/1e6) ms  errors \(.errors)"' >&2
  fi
}
# The delivered rate of the last flat-out relay run of <target>.
max_rate() {
  jq -s -r --arg t "$1" \
    '[.[] | select(.target==$t and .scenario=="relay" and (.args|contains("--rate")|not))] | last | .delivered_per_second' \
    "$results"
}

half=
scenarios() {
  local target=$1 pid=$2 port=$3
  run "$target" relay "$pid" "$port" --pairs "$PAIRS" --duration "$DURATION" --warmup "$WARMUP"
  # The same offered rate for every target: half of what Parley (measured first) delivered flat out.
  if [[ -z $half ]]; then
    half=$(max_rate parley | awk '{printf "%d", $1 / 2}')
    [[ $half -gt 0 ]] || half=1000
  fi
  run "$target" relay "$pid" "$port" --pairs "$PAIRS" --duration "$DURATION" --warmup "$WARMUP" \
    --rate "$half"
  run "$target" group "$pid" "$port" --group-size "$GROUP_SIZE" --duration "$DURATION" \
    --warmup "$WARMUP" --window 4
  run "$target" offline "$pid" "$port" --pairs "$OFFLINE_PAIRS" \
    --messages-per-device "$OFFLINE_MESSAGES" --connect-timeout 5m
  run "$target" idle "$pid" "$port" --connections "$IDLE_CONNECTIONS" --duration 10s \
    --loopback-sources 20 --threads 2 --connect-timeout 10m
}

# ---- Parley ----
port=$(free_port)
mkdir -p "$work/parleyd"
"$build/apps/parleyd/parleyd" --config bench/parleyd-bench.toml --data-dir "$work/parleyd" \
  --listen "127.0.0.1:$port" --admin off >"$work/parleyd.log" 2>&1 &
parleyd=$!
pids+=("$parleyd")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
scenarios parley "$parleyd" "$port"
kill "$parleyd"
wait "$parleyd" 2>/dev/null || true

# ---- mosquitto (MQTT 3.1.1, QoS 1, persistent sessions) ----
port=$(free_port)
mosquitto_pid=$(bash bench/peers/mosquitto.sh start "$port" "$work/mosquitto" | tail -1)
scenarios mqtt "$mosquitto_pid" "$port"
bash bench/peers/mosquitto.sh stop "$work/mosquitto" >/dev/null

# ---- ejabberd (XMPP, stream management acks, offline storage) ----
port=$(free_port)
bash bench/peers/ejabberd.sh start "$port" "$work/ejabberd" >&2
ejabberd_pid=$(cat "$work/ejabberd/beam.pid")
scenarios xmpp "$ejabberd_pid" "$port"
bash bench/peers/ejabberd.sh stop "$work/ejabberd" >/dev/null

# ---- micro-benchmarks ----
micro=$work/micro.txt
if [[ $MICRO == 1 ]]; then
  PARLEY_BENCH_BUILD_DIR=$build bash scripts/bench.sh --benchmark_repetitions=3 >"$micro" 2>&1 ||
    echo "bench: micro-benchmarks failed (see below)" >&2
  # Google Benchmark reports a benchmark that failed its own check in its output, not its exit code.
  if grep -q "ERROR OCCURRED" "$micro"; then
    echo "bench: a micro-benchmark reported an error (see RESULTS.md)" >&2
  fi
else
  echo "(skipped: MICRO=0)" >"$micro"
fi

cp "$results" bench/results.jsonl
python3 bench/report.py --results bench/results.jsonl --micro "$micro" \
  --command "bench/run.sh${PARLEY_BENCH_QUICK:+ (PARLEY_BENCH_QUICK=1)}" \
  --sizes "pairs=$PAIRS duration=$DURATION warmup=$WARMUP idle=$IDLE_CONNECTIONS offline=${OFFLINE_PAIRS}x$OFFLINE_MESSAGES group=$GROUP_SIZE threads=$THREADS" \
  >bench/RESULTS.md
echo "bench: wrote bench/RESULTS.md and bench/results.jsonl"
