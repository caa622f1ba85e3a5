# SPDX-License-Identifier: AGPL-3.0-or-later
# PARLEY_FUZZ: build everything with libFuzzer coverage + ASan/UBSan (clang only; `fuzz` preset).
# Libraries get -fsanitize=fuzzer-no-link (coverage hooks, no main); only the executables made by
# parley_add_fuzzer() link the libFuzzer driver with -fsanitize=fuzzer.

option(PARLEY_FUZZ "Build libFuzzer targets (clang) with ASan and UBSan on all code" OFF)

if(PARLEY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PARLEY_FUZZ needs clang (use the `fuzz` preset: clang++-14)")
  endif()
  # -fno-sanitize=function: clang 14 cannot emit UBSan's function-type prologue for split
  # coroutine frames ("Cannot represent a difference across sections" on Asio coroutine code).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # Boost 1.74 only enables `awaitable` for compilers it knows; clang 14 has working coroutines.
  add_compile_definitions(BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
endif()

# parley_add_fuzzer(<name> SOURCES ... DEPS ...)
# One libFuzzer executable; its seed corpus lives in fuzz/corpus/<name>/.
function(parley_add_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} parley_warnings)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
