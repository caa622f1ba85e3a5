#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Installs every Debian 12 package Parley needs to build, test and run.
# This is the ONLY place dependencies are listed (see ../shared/DEPENDENCIES.md for the why of each).
# Idempotent and non-interactive: when everything is present it does nothing and touches no network.
set -euo pipefail

packages=(
  # build tools
  build-essential cmake ninja-build ccache pkg-config git
  clang-format clang-tidy
  # clang + its runtime: libFuzzer targets and sanitizer builds
  clang-14 libclang-rt-14-dev
  # core libraries (Asio/Beast are header-only in Boost 1.74, so libboost-dev is enough)
  libboost-dev libssl-dev openssl libsodium-dev
  libprotobuf-dev protobuf-compiler
  # storage: RocksDB on the server, SQLCipher on clients (never link -lsqlite3 beside it)
  librocksdb-dev libsqlcipher-dev
  # cluster mode: PostgreSQL store of record (parley_store_pg) and the server its tests start
  libpqxx-dev postgresql
  # apps: flags, config, logs
  libcli11-dev libspdlog-dev libfmt-dev libtoml11-dev
  # CLI: QR codes for device linking
  libqrencode-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # transports: real proxies the tests route through (SOCKS5, HTTP CONNECT, Shadowsocks) and the
  # censor simulator's network tools (namespaces, veth, tc, nftables/iptables)
  microsocks dante-server tinyproxy shadowsocks-libev iproute2 nftables iptables
  # the censor simulator's lying resolver (tests/censor: NXDOMAIN for the server's name)
  dnsmasq-base
  # benchmark peers, driven by parley-load in bench/run.sh: MQTT and XMPP servers users run instead
  mosquitto ejabberd
  # bench/run.sh: JSON lines and the RESULTS.md writer
  jq python3
  # independent Signal-protocol implementation: test/bench-only interop oracle (GPL-3)
  libsignal-protocol-c-dev
  # desktop client: Qt 6 Widgets/Gui/Test, the SVG icon engine its window icon loads at run time,
  # Xvfb + xauth for xvfb-run (desktop end-to-end test) and fonts (Xvfb has none otherwise;
  # Symbola has the symbols the UI draws: ticks, the paperclip, the clock)
  qt6-base-dev libqt6svg6 xvfb xauth fonts-dejavu-core fonts-symbola
  # cluster mode: the Redis Cluster client's library, and redis-server + redis-cli for its tests and
  # scripts/cluster/redis-cluster.sh (each starts its own instances on 127.0.0.1)
  libhiredis-dev redis-server redis-tools
  # the .deb (scripts/package.sh, tests/package): dpkg-shlibdeps for CPack, desktop-file-validate
  dpkg-dev desktop-file-utils
)

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: must run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The proxies and benchmark peers are here for tests and benchmarks, which start their own
# instances on 127.0.0.1: their packages' system services must not start (policy-rc.d 101 = "not now"), nor at the next boot.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl disable --now danted tinyproxy shadowsocks-libev mosquitto ejabberd redis-server \
    postgresql >/dev/null 2>&1 || true
fi
