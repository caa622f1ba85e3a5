#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Runs clang-tidy (.clang-tidy) over our sources using the dev build's compile_commands.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/dev/compile_commands.json ]] || cmake --preset dev >/dev/null
mapfile -t files < <(git ls-files 'lib/*.cpp' 'apps/*.cpp' 'tests/*.cpp')
clang-tidy -p build/dev --quiet "${files[@]}"
