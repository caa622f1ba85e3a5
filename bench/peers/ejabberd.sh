#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# A private ejabberd for benchmarks: config, Mnesia spool and logs all under <dir>, XMPP c2s on
# 127.0.0.1:<port> only (plain TCP, no s2s, no HTTP), never touching a system instance.
#
#   bench/peers/ejabberd.sh start <port> <dir> [domain]   # returns once the port accepts
#   bench/peers/ejabberd.sh stop <dir>                      # stops by the PID in <dir>/beam.pid
#
# The Erlang VM is run directly (not through ejabberdctl, which would `su` to the ejabberd user
# and start epmd): as the calling user, with no node name (nonode@nohost) and -start_epmd false,
# so there is no Erlang distribution, no epmd and no cookie; ejabberdctl cannot reach it, which
# is fine because parley-load registers its accounts in-band (XEP-0077). <dir>/beam.pid holds
# the one process to stop (beam.smp; its erl_child_setup helper exits with it).
# Environment: EJABBERD_MAM=1 adds the message archive (mod_mam; see ejabberd.yml for why not),
# EJABBERD_START_TIMEOUT (seconds, default 60).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ejabberd_lib="${EJABBERD_LIB:-/usr/lib/x86_64-linux-gnu}"

usage() {
  echo "usage: $0 start <port> <dir> [domain] | stop <dir>" >&2
  exit 2
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local port="$1" dir="$2" domain="${3:-localhost}"
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  [[ "$domain" =~ ^[A-Za-z0-9.-]+$ ]] || { echo "bad domain" >&2; exit 2; }
  mkdir -p "$dir/spool" "$dir/logs"
  dir="$(cd "$dir" && pwd -P)"
  if [[ -f "$dir/beam.pid" ]] && kill -0 "$(cat "$dir/beam.pid")" 2>/dev/null; then
    echo "ejabberd already running in $dir (pid $(cat "$dir/beam.pid"))" >&2
    exit 1
  fi
  if port_open "$port"; then
    echo "port $port is already in use" >&2
    exit 1
  fi

  sed -e "s/^  PARLEY_PORT: .*/  PARLEY_PORT: $port/" \
      -e "s/^  PARLEY_DOMAIN: .*/  PARLEY_DOMAIN: \"$domain\"/" \
      "$here/ejabberd.yml" > "$dir/ejabberd.yml"
  if [[ "${EJABBERD_MAM:-0}" != "1" ]]; then
    sed -i '/^  # Keep mod_mam last/,$d' "$dir/ejabberd.yml"
  fi

  # What ejabberdctl exports, pointed at <dir>.
  export EJABBERD_CONFIG_PATH="$dir/ejabberd.yml"
  export EJABBERD_LOG_PATH="$dir/logs/ejabberd.log"
  export ERL_CRASH_DUMP="$dir/logs/erl_crash.dump"
  export ERL_CRASH_DUMP_BYTES=0
  export ERL_LIBS="$ejabberd_lib"
  export ERL_MAX_PORTS=1000000
  export ERL_MAX_ETS_TABLES=10000
  export HOME="$dir"
  # Every client connection is a file descriptor: as many as the hard limit allows.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # The VM's working directory is the spool, as with ejabberdctl.
  cd "$dir/spool"
  # setsid: the VM outlives this script and a caller's terminal signals; stdin from /dev/null.
  setsid /usr/bin/erl -noinput -start_epmd false +P 2000000 \
    -mnesia dir "\"$dir/spool\"" -s ejabberd \
    </dev/null >"$dir/logs/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/beam.pid"

  local deadline=$((SECONDS + ${EJABBERD_START_TIMEOUT:-60}))
  until port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "ejabberd exited during start; see $dir/logs/" >&2
      tail -20 "$dir/logs/stdout.log" "$dir/logs/ejabberd.log" >&2 2>/dev/null || true
      rm -f "$dir/beam.pid"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "ejabberd did not open port $port in time; stopping it" >&2
      stop "$dir"
      exit 1
    fi
    sleep 0.2
  done
  echo "ejabberd pid $pid on 127.0.0.1:$port, domain $domain, dir $dir"
}

stop() {
  local dir="$1"
  [[ -f "$dir/beam.pid" ]] || { echo "no $dir/beam.pid: not running" >&2; return 0; }
  local pid
  pid="$(cat "$dir/beam.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    # SIGTERM makes the VM run init:stop() (Mnesia closes its tables); KILL after 20 s.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "ejabberd pid $pid ignored SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/beam.pid"
}

case "${1:-}" in
  start) [[ $# -ge 3 && $# -le 4 ]] || usage; start "$2" "$3" "${4:-localhost}" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
  *) usage ;;
esac
