#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# A local Redis Cluster (Redis 7, cluster mode) for trying Parley's cluster mode by hand:
#
#   scripts/cluster/redis-cluster.sh start [MASTERS] [--replicas] [--base-port PORT]
#   scripts/cluster/redis-cluster.sh status
#   scripts/cluster/redis-cluster.sh stop
#
# MASTERS defaults to 3 (the minimum Redis Cluster accepts); --replicas adds one replica per master.
# Nodes listen on 127.0.0.1 only, on PORT, PORT+1, ... (default 30001; each also uses port+10000
# for the cluster bus), with no persistence: Redis is never Parley's store of record. State, logs
# and one PID file per node live in ./build/cluster/redis; `stop` stops exactly those PIDs
# (SIGTERM, then SIGKILL after 10 s) and removes the state. The tests do not use this script:
# lib/redis/test/redis_cluster_process.cpp starts its own clusters on free ports.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=build/cluster/redis
masters=3
replicas=0
base_port=30001

usage() {
  sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# PIDs recorded by `start` that still run redis-server (a recycled PID is left alone).
running_pids() {
  local file pid
  for file in "$dir"/node*/redis.pid; do
    [[ -f $file ]] || continue
    pid=$(<"$file")
    if [[ -r /proc/$pid/comm && $(</proc/"$pid"/comm) == redis-server* ]]; then
      echo "$pid"
    fi
  done
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "redis-cluster: timed out waiting for $what (logs in $dir)" >&2
      return 1
    fi
    sleep 0.1
  done
}

cluster_ok() {
  redis-cli -h 127.0.0.1 -p "$1" cluster info | grep -q '^cluster_state:ok'
}

start() {
  if [[ -n $(running_pids) ]]; then
    echo "redis-cluster: already running (PIDs in $dir/node*/redis.pid); stop it first" >&2
    exit 1
  fi
  local total=$((masters * (replicas + 1)))
  local ports=() i port
  for ((i = 0; i < total; i++)); do
    port=$((base_port + i))
    if port_in_use "$port" || port_in_use $((port + 10000)); then
      echo "redis-cluster: port $port or $((port + 10000)) is in use; try --base-port" >&2
      exit 1
    fi
    ports+=("$port")
  done
  rm -rf "$dir"
  for ((i = 0; i < total; i++)); do
    port=${ports[i]}
    mkdir -p "$dir/node$i"
    nohup redis-server --port "$port" --bind 127.0.0.1 \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --cluster-allow-reads-when-down no --save '' --appendonly no \
      --dir "$dir/node$i" --logfile redis.log --daemonize no \
      >"$dir/node$i/stdout.log" 2>&1 &
    echo $! >"$dir/node$i/redis.pid"
  done
  for port in "${ports[@]}"; do
    wait_for 10 "127.0.0.1:$port to answer PING" redis-cli -h 127.0.0.1 -p "$port" ping
  done
  local nodes=()
  for port in "${ports[@]}"; do nodes+=("127.0.0.1:$port"); done
  # --cluster-yes: redis-cli would otherwise ask before assigning the slots.
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas "$replicas" --cluster-yes \
    >"$dir/create.log" 2>&1 || {
    echo "redis-cluster: cluster create failed, see $dir/create.log" >&2
    exit 1
  }
  for port in "${ports[@]}"; do
    wait_for 30 "cluster_state:ok on 127.0.0.1:$port" cluster_ok "$port"
  done
  local seeds
  seeds=$(IFS=,; echo "${nodes[*]}")
  echo "redis-cluster: $masters masters, $((masters * replicas)) replicas, state in $dir"
  echo "seeds: $seeds"
}

stop() {
  local pids=() pid
  mapfile -t pids < <(running_pids)
  if ((${#pids[@]} > 0)); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
      while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS > deadline)); then
          kill -KILL "$pid" 2>/dev/null || true
          break
        fi
        sleep 0.1
      done
    done
  fi
  rm -rf "$dir"
  echo "redis-cluster: stopped ${#pids[@]} node(s)"
}

status() {
  local file pid port
  for file in "$dir"/node*/redis.pid; do
    [[ -f $file ]] || continue
    pid=$(<"$file")
    port=$(sed -n 's/.*Running mode=cluster, port=\([0-9]*\).*/\1/p' "$(dirname "$file")/redis.log" | tail -1)
    if kill -0 "$pid" 2>/dev/null; then
      echo "$(dirname "$file"): pid $pid port ${port:-?} $(redis-cli -h 127.0.0.1 -p "${port:-0}" role 2>/dev/null | head -1)"
    else
      echo "$(dirname "$file"): pid $pid not running"
    fi
  done
}

command=${1:-}
[[ -n $command ]] || usage
shift
while (($# > 0)); do
  case $1 in
    --replicas) replicas=1 ;;
    --base-port)
      base_port=${2:?--base-port needs a port}
      shift
      ;;
    [0-9]*) masters=$1 ;;
    *) usage ;;
  esac
  shift
done
if ((masters < 3)); then
  echo "redis-cluster: Redis Cluster needs at least 3 masters" >&2
  exit 2
fi

case $command in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
