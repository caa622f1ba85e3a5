# SPDX-License-Identifier: AGPL-3.0-or-later
# Compiler settings shared by every Parley target.

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

option(PARLEY_WERROR "Treat warnings in Parley's own code as errors" ON)
option(PARLEY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(PARLEY_TSAN "Build with ThreadSanitizer (the tsan preset; see docs/testing.md)" OFF)

# ccache turns a rebuild of an unchanged Beast translation unit from ~60 s into ~1 s.
find_program(PARLEY_CCACHE ccache)
if(PARLEY_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${PARLEY_CCACHE})
endif()

# Debug info at -g1 (line tables): -g costs ~40% more compile time and memory on Asio/Beast code and
# backtraces still show file:line.
foreach(flags CMAKE_CXX_FLAGS_DEBUG CMAKE_CXX_FLAGS_RELWITHDEBINFO)
  string(REGEX REPLACE "(^| )-g( |$)" "\\1-g1\\2" ${flags} "${${flags}}")
endforeach()

# Warnings apply to our targets only (through this interface target), never to dependencies.
add_library(parley_warnings INTERFACE)
target_compile_options(parley_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                 -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(PARLEY_WERROR)
  # -Wmaybe-uninitialized stays a warning: at -O2, GCC 12 reports false positives inside
  # std::optional/std::variant moves (seen on SessionState in parley_crypto) that change with
  # inlining decisions, so as an error it would break release builds at random.
  target_compile_options(parley_warnings INTERFACE -Werror
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-error=maybe-uninitialized>)
endif()

if(PARLEY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PARLEY_TSAN)
  if(PARLEY_SANITIZE)
    message(FATAL_ERROR "PARLEY_TSAN and PARLEY_SANITIZE cannot be combined")
  endif()
  # GCC warns that TSan cannot see std::atomic_thread_fence, which Asio's handler recycling uses;
  # the warning is about a possible false positive, not about our code.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer
                      $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  add_link_options(-fsanitize=thread)
endif()

# parley_library(NAME <target> SOURCES ... DEPS ...)
# One layer = one static library with include/parley/<layer>/ public headers and src/ beside.
function(parley_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE parley_warnings ${ARG_PRIVATE_DEPS})
endfunction()
