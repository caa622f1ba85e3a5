#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# The run command: installs dependencies, builds parleyd, the `parley` CLI and the desktop app
# (`release` preset) and starts parleyd. The clients are then build/release/apps/parley/parley and
# build/release/apps/parley-desktop/parley-desktop (README: first conversation, the desktop app).
# Re-runnable: builds are incremental and state is kept under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
cmake --preset release >/dev/null
# Only the server, the two clients and what they link: the run command need not wait for tests.
cmake --build --preset release --target parleyd parley parley-desktop

# On 127.0.0.1 with the store in ./data. Without --cert/--key, parleyd uses (and on the first run
# generates) a self-signed certificate in ./data/tls and logs its fingerprint. Extra arguments are
# passed on (see `parleyd --help` and docs/operations.md). Ctrl-C stops it gracefully.
exec build/release/apps/parleyd/parleyd serve --data-dir data \
  --listen 127.0.0.1:8443 --admin 127.0.0.1:9090 "$@"
