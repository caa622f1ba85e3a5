#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
# Fails (and shows the diff) when a tracked C++ file is not clang-formatted. `--fix` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.hpp' '*.cc')
[[ ${#files[@]} -eq 0 ]] && exit 0

if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi

status=0
for f in "${files[@]}"; do
  if ! diff -u "$f" <(clang-format "$f") --label "$f" --label "$f (clang-formatted)"; then
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  echo "check-format: files above are not clang-formatted; run scripts/check-format.sh --fix" >&2
else
  echo "check-format: ${#files[@]} files clean"
fi
exit $status
