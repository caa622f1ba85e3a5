# SPDX-License-Identifier: AGPL-3.0-or-later
# Tests are GoogleTest executables registered with CTest, so `ctest` prints one summary for all.
include(CTest)
include(GoogleTest)

# parley_add_test(<name> SOURCES ... DEPS ... [LABELS ...])
function(parley_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;RESOURCE_LOCK" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} parley_warnings GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(properties TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
  if(ARG_RESOURCE_LOCK)
    # Tests of this program never run at the same time as each other (ctest -j).
    list(APPEND properties RESOURCE_LOCK ${ARG_RESOURCE_LOCK})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
endfunction()
