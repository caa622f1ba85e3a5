# SPDX-License-Identifier: AGPL-3.0-or-later
# Every external dependency is found here, once. Packages come from scripts/install-deps.sh only.
# Targets and pitfalls: ../shared/DEPENDENCIES.md.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(GTest REQUIRED)
