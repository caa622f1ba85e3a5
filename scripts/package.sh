#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# The package command: installs dependencies, builds the four programs (`release` preset) and packs
# them into one Debian package with CPack (cmake/ParleyPackaging.cmake), then prints its path:
#   scripts/package.sh
#   sudo apt install ./build/release/parley_0.1.0_amd64.deb
# Re-runnable: builds are incremental (Ninja + ccache).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$PWD/build/.ccache}
cmake --preset release >/dev/null
# Only what goes in the package: it need not wait for tests and benchmarks.
cmake --build --preset release --target parleyd parley parley-relay parley-desktop

# The package goes into build/release; cpack names it on its last line ("CPack: - package: ...").
log=build/release/cpack.log
(cd build/release && cpack -G DEB --config CPackConfig.cmake) | tee "$log"
deb=$(sed -n 's/^CPack: - package: \(.*\) generated\.$/\1/p' "$log")
[[ -f $deb ]] || { echo "package.sh: cpack made no package" >&2; exit 1; }
echo "package.sh: $deb"
