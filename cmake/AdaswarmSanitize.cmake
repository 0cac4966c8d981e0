# Sanitizer and fuzzing builds (docs/hardening.md).
#
#   ADASWARM_SANITIZE=address,undefined (or ON, the same): every adaswarm target
#     (library, CLI, tests, benchmarks, fuzzers) is compiled and linked with
#     -fsanitize=<list> -fno-omit-frame-pointer; with "undefined",
#     -fno-sanitize-recover=undefined makes undefined behaviour abort, so a test
#     that triggers it fails. LibTorch, GoogleTest and the system libraries stay
#     uninstrumented (ASan/UBSan allow that; see scripts/sanitize.sh for the
#     runtime options and suppressions this needs).
#   ADASWARM_FUZZ=ON (clang only): builds the libFuzzer targets under fuzz/
#     (with the sanitizers above when set); adaswarm's own code gets libFuzzer's
#     coverage instrumentation (-fsanitize=fuzzer-no-link).
# Included before the first target so that add_compile_options reaches all of them.
set(ADASWARM_SANITIZE "" CACHE STRING "Sanitizers for adaswarm's targets: address,undefined (ON = both), empty = none")
option(ADASWARM_FUZZ "Build the libFuzzer targets under fuzz/ (clang only)" OFF)

if(ADASWARM_SANITIZE)
  if(ADASWARM_SANITIZE STREQUAL "ON" OR ADASWARM_SANITIZE STREQUAL "1" OR ADASWARM_SANITIZE STREQUAL "TRUE")
    set(_adaswarm_san "address,undefined")
  else()
    set(_adaswarm_san "${ADASWARM_SANITIZE}")
  endif()
  add_compile_options(-fsanitize=${_adaswarm_san} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_adaswarm_san})
  if(_adaswarm_san MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
    add_link_options(-fno-sanitize-recover=undefined)
  endif()
  message(STATUS "adaswarm: sanitizers ${_adaswarm_san}")
endif()

if(ADASWARM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ADASWARM_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  # fuzz/CMakeLists.txt links its targets to `adaswarm`, defined after this
  # file is included (CMake resolves target names at generation time).
  add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/../fuzz ${CMAKE_BINARY_DIR}/fuzz)
endif()
