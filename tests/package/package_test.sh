#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Packs the build tree given as $1 into a .deb (cpack -G DEB, output in a temp dir) and checks
# what a person installing it gets: the control fields with dpkg-shlibdeps' dependencies, exactly
# the four programs in /usr/bin, the desktop entry (desktop-file-validate) and icon, the docs, and
# each program run from the unpacked package. Each failed check exits 1 with what was wrong.
#   tests/package/package_test.sh build/dev      (ctest -L package runs it)
set -euo pipefail

build=${1:?usage: package_test.sh <build dir>}
build=$(cd "$build" && pwd)

fail() {
  echo "package_test: FAIL: $*" >&2
  exit 1
}
pass() { echo "package_test: ok: $*"; }

for tool in cpack dpkg-deb dpkg-shlibdeps desktop-file-validate readelf; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done
[[ -f $build/CPackConfig.cmake ]] || fail "$build/CPackConfig.cmake missing: configure the build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-package-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. Pack. Nothing is written to the build tree: cpack stages and writes under -B.
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1; then
  cat "$tmp/cpack.log" >&2
  fail "cpack -G DEB failed (are parleyd, parley, parley-relay and parley-desktop built?)"
fi
shopt -s nullglob
debs=("$tmp"/out/parley_*.deb)
shopt -u nullglob
[[ ${#debs[@]} -eq 1 ]] || fail "expected one parley_*.deb in the cpack output, found ${#debs[@]}"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
[[ $(basename "$deb") == parley_*_"$arch".deb ]] ||
  fail "file name $(basename "$deb") is not parley_<version>_$arch.deb"
pass "packed $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# 2. Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == parley ]] || fail "Package is '$(field Package)', expected parley"
[[ $(field Architecture) == "$arch" ]] ||
  fail "Architecture is '$(field Architecture)', expected $arch"
[[ $(field Section) == net ]] || fail "Section is '$(field Section)', expected net"
[[ -n $(field Version) ]] || fail "no Version"
[[ -n $(field Maintainer) ]] || fail "no Maintainer"
depends=$(field Depends)
[[ -n $depends ]] || fail "Depends is empty: dpkg-shlibdeps did not run"
# From dpkg-shlibdeps (the programs' shared libraries; regular expressions, so a new soname
# passes) and one added by hand (the Qt SVG plugin).
for dep in libc6 'libstdc\+\+6' libqt6widgets6 libqt6gui6 libsqlcipher0 'librocksdb[0-9.]+' \
  'libsodium[0-9]+' 'libssl[0-9.]+' libqt6svg6; do
  grep -Eq "(^|, )$dep( |,|$)" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
# SQLCipher and plain SQLite must never be linked together (ARCHITECTURE.md, DEPENDENCIES.md).
if grep -Eq "(^|, )libsqlite3-0( |,|$)" <<<"$depends"; then
  fail "Depends has libsqlite3-0: something links -lsqlite3 beside SQLCipher"
fi
pass "control: Package parley $(field Version) $arch, Depends: $depends"

# 3. Contents: exactly the four programs, the desktop entry and icon, docs; nothing outside /usr.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./||; s|/$||' | grep -v '^$' >"$tmp/files"
expect=(
  usr/bin/parleyd
  usr/bin/parley
  usr/bin/parley-relay
  usr/bin/parley-desktop
  usr/share/applications/parley-desktop.desktop
  usr/share/icons/hicolor/scalable/apps/parley-desktop.svg
  usr/share/doc/parley/copyright
  usr/share/doc/parley/operations.md
  usr/share/doc/parley/relay.md
  usr/share/doc/parley/parleyd.example.toml
)
for path in "${expect[@]}"; do
  grep -qx "$path" "$tmp/files" || fail "$path is not in the package"
done
bins=$(grep '^usr/bin/.' "$tmp/files" | sort | tr '\n' ' ')
[[ $bins == "usr/bin/parley usr/bin/parley-desktop usr/bin/parley-relay usr/bin/parleyd " ]] ||
  fail "usr/bin holds more or less than the four programs (a test or tool installed?): $bins"
outside=$(grep -v '^usr\(/\|$\)' "$tmp/files" || true)
[[ -z $outside ]] || fail "files outside /usr: $outside"
pass "contents: $(wc -l <"$tmp/files") entries, programs: $bins"

# 4. Unpack and check the files themselves.
root=$tmp/root
dpkg-deb -x "$deb" "$root"
desktop=$root/usr/share/applications/parley-desktop.desktop
desktop-file-validate "$desktop" || fail "desktop-file-validate rejects parley-desktop.desktop"
entry() { sed -n "s/^$1=//p" "$desktop"; }
[[ $(entry Exec) == parley-desktop* ]] ||
  fail "desktop entry Exec is '$(entry Exec)', not parley-desktop"
[[ $(entry Icon) == parley-desktop ]] ||
  fail "desktop entry Icon is '$(entry Icon)', not the installed parley-desktop.svg"
[[ $(entry StartupWMClass) == parley-desktop ]] ||
  fail "desktop entry StartupWMClass is '$(entry StartupWMClass)', not parley-desktop"
icon=$root/usr/share/icons/hicolor/scalable/apps/parley-desktop.svg
grep -q '<svg' "$icon" || fail "the icon is not an SVG"
if grep -Eq '(xlink:)?href="(https?:|file:|/)' "$icon"; then
  fail "the icon refers to external files"
fi
pass "desktop entry valid; icon is a self-contained SVG"

for program in parleyd parley parley-relay parley-desktop; do
  [[ -x $root/usr/bin/$program ]] || fail "usr/bin/$program is not executable"
  # Installed programs must not look for libraries in the build tree.
  rpath=$(readelf -d "$root/usr/bin/$program" | grep -E 'R(UN)?PATH' || true)
  [[ -z $rpath ]] || fail "usr/bin/$program has an RPATH/RUNPATH: $rpath"
  if readelf -S "$root/usr/bin/$program" | grep -q '\.debug_info'; then
    fail "usr/bin/$program is not stripped"
  fi
done
pass "programs executable, stripped, without RPATH"

# 5. Run each program from the package: --help exits 0 and prints its usage.
run_help() {
  local program=$1
  local out=$tmp/$program.help
  local status=0
  timeout 30 "$root/usr/bin/$program" --help >"$out" 2>&1 || status=$?
  [[ $status -eq 0 ]] || { cat "$out" >&2; fail "$program --help exited $status"; }
  grep -qi 'usage' "$out" || { cat "$out" >&2; fail "$program --help printed no usage"; }
  pass "$program --help: $(grep -i -m1 'usage' "$out")"
}
run_help parleyd
run_help parley
run_help parley-relay
QT_QPA_PLATFORM=offscreen run_help parley-desktop
# Its window icon is data/parley.svg compiled in as a Qt resource; Qt says so if it is missing.
if grep -q 'qt.svg' "$tmp/parley-desktop.help"; then
  cat "$tmp/parley-desktop.help" >&2
  fail "parley-desktop cannot load its window icon (:/parley/parley.svg)"
fi

# 6. The example config is accepted as it is: every key known and every value valid. parleyd
# reads the file before serving, and a --listen that is no address then stops it (exit 2,
# "--listen: ...") before it touches the data dir or the certificate; a bad file stops it earlier
# with "config: ...".
example=$root/usr/share/doc/parley/parleyd.example.toml
status=0
"$root/usr/bin/parleyd" --config "$example" --listen not-an-address >"$tmp/config.log" 2>&1 ||
  status=$?
if grep -q 'config:' "$tmp/config.log" || ! grep -q -- '--listen:' "$tmp/config.log" ||
  [[ $status -ne 2 ]]; then
  cat "$tmp/config.log" >&2
  fail "parleyd does not accept parleyd.example.toml (exit $status)"
fi
pass "parleyd accepts parleyd.example.toml"

echo "package_test: all checks passed"
