// SPDX-License-Identifier: AGPL-3.0-or-later
// LeakSanitizer suppressions for parley_store_pg_test (read only under the asan preset).
//
// libpqxx 6.4 loses the PGresult libpq makes for a statement whose connection has just broken
// (the server was stopped under an open store): allocated by libpq inside libpqxx, never handed to
// Parley. PgStore replaces that connection and carries on; the leak is once per broken connection.

extern "C" const char* __lsan_default_suppressions();  // NOLINT: the sanitizer's hook

extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpqxx-6.4.so\n";
}
