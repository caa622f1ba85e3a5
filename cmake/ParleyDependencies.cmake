# SPDX-License-Identifier: AGPL-3.0-or-later
# Every external dependency is found here, once. Packages come from scripts/install-deps.sh only.
# Targets and pitfalls: ../shared/DEPENDENCIES.md.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Protobuf REQUIRED)  # CMake's module: protobuf::libprotobuf, protobuf_generate
# GPL-3 interop oracle: linked only into test and benchmark executables, after libsodium (both
# export crypto_hash_sha512), never into a parley_* library.
pkg_check_modules(SIGNAL_C REQUIRED IMPORTED_TARGET libsignal-protocol-c)
find_package(RocksDB CONFIG REQUIRED)  # RocksDB::rocksdb-shared (RocksDB::rocksdb is the static .a)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)  # benchmark::benchmark, bench/ only
