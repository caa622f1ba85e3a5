#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Starts and stops mosquitto as parley-load's MQTT peer, as a plain background process (never the
# system service), with its own config, data and log in <dir>.
#
#   bench/peers/mosquitto.sh start <port> <dir>   prints the PID once 127.0.0.1:<port> accepts
#   bench/peers/mosquitto.sh stop <dir>           SIGTERM (mosquitto writes a last snapshot), then
#                                                 SIGKILL after 10 s; only the PID in <dir>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mosquitto="${MOSQUITTO:-/usr/sbin/mosquitto}"

usage() {
  echo "usage: $0 start <port> <dir> | stop <dir>" >&2
  exit 2
}

port_open() {
  # bash's /dev/tcp: no nc needed.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local port="$1" dir="$2"
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ -f "$dir/mosquitto.pid" ]] && kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null; then
    echo "mosquitto already runs from $dir (pid $(cat "$dir/mosquitto.pid"))" >&2
    exit 1
  fi
  if port_open "$port"; then
    echo "127.0.0.1:$port is already in use" >&2
    exit 1
  fi
  sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$here/mosquitto.conf" >"$dir/mosquitto.conf"
  # As root, mosquitto would switch to the `mosquitto` user, who cannot write <dir>: stay as the
  # user that owns <dir> (this option has no effect for other users).
  if [[ "$(id -u)" == 0 ]]; then
    echo "user root" >>"$dir/mosquitto.conf"
  fi
  # The idle scenario holds many connections: one descriptor each.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

  "$mosquitto" -c "$dir/mosquitto.conf" </dev/null >>"$dir/mosquitto.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/mosquitto.pid"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "mosquitto exited at start; see $dir/mosquitto.log and $dir/mosquitto.out" >&2
      tail -n 5 "$dir/mosquitto.log" "$dir/mosquitto.out" >&2 2>/dev/null || true
      rm -f "$dir/mosquitto.pid"
      exit 1
    fi
    if port_open "$port"; then
      echo "$pid"
      return 0
    fi
    sleep 0.05
  done
  echo "mosquitto did not accept on 127.0.0.1:$port within 5 s" >&2
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/mosquitto.pid"
  exit 1
}

stop() {
  local dir="$1" pid
  [[ -f "$dir/mosquitto.pid" ]] || { echo "no $dir/mosquitto.pid" >&2; exit 1; }
  pid="$(cat "$dir/mosquitto.pid")"
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "mosquitto (pid $pid) ignored SIGTERM for 10 s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/mosquitto.pid"
}

case "${1:-}" in
  start) [[ $# == 3 ]] || usage; start "$2" "$3" ;;
  stop) [[ $# == 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
