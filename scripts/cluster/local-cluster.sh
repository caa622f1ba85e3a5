#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# A whole Parley cluster on this machine, for trying cluster mode by hand (docs/operations.md
# "Cluster mode"): PostgreSQL servers (the store, sharded), a 3-master Redis Cluster (wake-ups
# between nodes) and parleyd nodes sharing one certificate, all on 127.0.0.1.
#
#   scripts/cluster/local-cluster.sh start [--nodes N] [--postgres M] [--replicas] [--redis-base-port P]
#   scripts/cluster/local-cluster.sh stop
#
# Defaults: 2 parleyd nodes (clients on 127.0.0.1:8443, 8444, …; admin on 9090, 9091, …) and 2
# PostgreSQL servers (ports 25432, 25433, …); Redis as scripts/cluster/redis-cluster.sh starts it
# (ports 30001… and their +10000 bus ports). State, logs and PID files live in ./build/cluster;
# `stop` stops exactly the recorded PIDs (parleyd, then Redis, then PostgreSQL) and removes the
# state. parleyd comes from build/release (built first), or $PARLEYD. PostgreSQL refuses to run as root:
# as root its commands run as the `postgres` user. The tests do not use this script; they start
# their own servers on free ports.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=build/cluster
nodes=2
backends=2
redis_args=()
pg_bin=/usr/lib/postgresql/15/bin
parleyd=${PARLEYD:-build/release/apps/parleyd/parleyd}

usage() {
  sed -n '8,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Runs a PostgreSQL program as its owner (the postgres user when we are root).
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The PID in `file` if it still runs `name` (a recycled PID is left alone).
live_pid() {
  local file=$1 name=$2 pid
  [[ -f $file ]] || return 0
  pid=$(head -1 "$file")
  if [[ -r /proc/$pid/comm && $(</proc/"$pid"/comm) == "$name"* ]]; then echo "$pid"; fi
}

wait_gone() {
  local pid=$1
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

healthy() {
  local port=$1 reply
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  reply=$(head -1 <&3 || true)
  exec 3>&-
  [[ $reply == *" 200 "* ]]
}

start() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --nodes) nodes=$2; shift 2 ;;
      --postgres) backends=$2; shift 2 ;;
      --replicas) redis_args+=(--replicas); shift ;;
      --redis-base-port) redis_args+=(--base-port "$2"); shift 2 ;;
      *) usage ;;
    esac
  done
  if [[ -n $(ls -A "$dir" 2>/dev/null) ]]; then
    echo "local-cluster: $dir is in use; run '$0 stop' first" >&2
    exit 1
  fi
  if [[ -z ${PARLEYD:-} ]]; then  # incremental: quick when up to date
    cmake --preset release >/dev/null
    cmake --build --preset release --target parleyd parley parley-load
  fi
  mkdir -p "$dir"

  local conninfos=() i port data
  for ((i = 0; i < backends; i++)); do
    port=$((25432 + i))
    data=$dir/pg$i
    mkdir -p "$data"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$data"
    as_postgres "$pg_bin/initdb" -D "$data/data" -A trust -U postgres >"$data/initdb.log" 2>&1
    as_postgres "$pg_bin/pg_ctl" -D "$data/data" -l "$data/postgres.log" -w \
      -o "-h 127.0.0.1 -p $port -k $PWD/$data" start >/dev/null
    as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres parley
    conninfos+=("host=127.0.0.1 port=$port dbname=parley user=postgres")
  done
  local postgres
  postgres=$(IFS=';'; echo "${conninfos[*]}")

  local seeds
  seeds=$(scripts/cluster/redis-cluster.sh start "${redis_args[@]}" | sed -n 's/^seeds: //p')
  [[ -n $seeds ]] || { echo "local-cluster: the Redis Cluster did not start" >&2; exit 1; }

  local cert_args=()
  for ((i = 0; i < nodes; i++)); do
    data=$dir/node$i
    mkdir -p "$data"
    "$parleyd" serve --data-dir "$data" --listen "127.0.0.1:$((8443 + i))" \
      --admin "127.0.0.1:$((9090 + i))" --postgres "$postgres" --redis "$seeds" \
      --node-id "node$i" "${cert_args[@]}" >"$data/parleyd.log" 2>&1 &
    echo $! >"$data/parleyd.pid"
    for _ in $(seq 100); do
      healthy $((9090 + i)) && break
      kill -0 "$(<"$data/parleyd.pid")" 2>/dev/null || { cat "$data/parleyd.log" >&2; exit 1; }
      sleep 0.2
    done
    # Every node serves the first node's certificate, as nodes behind one name do.
    cert_args=(--cert "$dir/node0/tls/server-cert.pem" --key "$dir/node0/tls/server-key.pem")
  done

  local endpoints=""
  for ((i = 1; i < nodes; i++)); do endpoints+=" --endpoint 127.0.0.1:$((8443 + i))"; done
  cat <<EOF
local-cluster: $nodes parleyd node(s) on 127.0.0.1:8443..$((8443 + nodes - 1)), $backends PostgreSQL server(s), Redis Cluster at $seeds
state and logs in $dir; stop with: $0 stop
try it:
  parley --home /tmp/alice init --server 127.0.0.1:8443 --ca $dir/node0/tls/server-cert.pem$endpoints --username alice
  parley --home /tmp/bob init --server 127.0.0.1:$((8443 + nodes - 1)) --ca $dir/node0/tls/server-cert.pem --username bob
  build/release/apps/parley-load/parley-load relay --port 8443 --also-port 8444 --ca-file $dir/node0/tls/server-cert.pem --pairs 20 --duration 10s
EOF
}

stop() {
  [[ -d $dir ]] || { echo "local-cluster: nothing to stop"; return 0; }
  local file pid data
  for file in "$dir"/node*/parleyd.pid; do
    pid=$(live_pid "$file" parleyd)
    [[ -n $pid ]] || continue
    kill -TERM "$pid"
    wait_gone "$pid"
  done
  scripts/cluster/redis-cluster.sh stop >/dev/null || true
  for data in "$dir"/pg*; do
    [[ -d $data ]] || continue
    pid=$(live_pid "$data/data/postmaster.pid" postgres)
    [[ -n $pid ]] || continue
    kill -INT "$pid"  # fast shutdown
    wait_gone "$pid"
  done
  rm -rf "$dir"
  echo "local-cluster: stopped"
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) usage ;;
esac
