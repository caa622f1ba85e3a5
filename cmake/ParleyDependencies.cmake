# SPDX-License-Identifier: AGPL-3.0-or-later
# Every external dependency is found here, once. Packages come from scripts/install-deps.sh only.
# Targets and pitfalls: ../shared/DEPENDENCIES.md.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(Protobuf REQUIRED)  # CMake's module: protobuf::libprotobuf, protobuf_generate
# Asio and Beast are header-only in 1.74 (Boost::headers). Keep them inside lib/gateway/src and the
# test client: one Beast+SSL coroutine translation unit costs about a minute to compile.
find_package(Boost 1.74 REQUIRED)
# Apps: flags, config file, logs.
find_package(CLI11 CONFIG REQUIRED)   # CLI11::CLI11
find_package(spdlog CONFIG REQUIRED)  # spdlog::spdlog
find_package(fmt CONFIG REQUIRED)     # fmt::fmt
find_package(toml11 CONFIG REQUIRED)  # toml11::toml11
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)  # the CLI's QR codes
# GPL-3 interop oracle: linked only into test and benchmark executables, after libsodium (both
# export crypto_hash_sha512), never into a parley_* library.
pkg_check_modules(SIGNAL_C REQUIRED IMPORTED_TARGET libsignal-protocol-c)
find_package(GTest REQUIRED)
# Client database. Never link plain SQLite (-lsqlite3) next to it: with sqlite3 first, PRAGMA key
# is silently ignored and the database is plaintext.
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher)  # -I/usr/include/sqlcipher
find_package(RocksDB CONFIG REQUIRED)  # → RocksDB::rocksdb-shared (not the static RocksDB::rocksdb)
# Cluster mode store of record (lib/store parley_store_pg only, so parleyd's default build does not
# link it): libpqxx 6.x, which brings libpq.
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)  # PkgConfig::PQXX
find_package(benchmark REQUIRED)  # benchmark::benchmark, bench/ only
# Redis Cluster client (lib/redis). hiredis 0.14: no cluster support and no TLS; lib/redis adds
# the cluster part and keeps hiredis out of its public headers.
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# The desktop app (apps/parley-desktop, tests/desktop): Qt 6 Widgets, and QtTest for its tests.
# Not in libFuzzer builds, which build no apps.
if(NOT PARLEY_FUZZ)
  find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets Test)
endif()
