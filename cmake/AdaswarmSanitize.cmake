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

# ADASWARM_SANITIZE_LIBRARY_DIRS=data;util;swarm;loss (CI: scripts/sanitize.sh --ci):
# the library is built from those src/lib sub-folders only, halving the build;
# only tests that need nothing else link (build them by name, not `all`).
set(ADASWARM_SANITIZE_LIBRARY_DIRS "" CACHE STRING
    "Build the library from only these src/lib sub-folders (a quick sanitizer build of a test subset)")
if(ADASWARM_SANITIZE_LIBRARY_DIRS)
  if(CMAKE_VERSION VERSION_LESS 3.19)
    message(FATAL_ERROR "ADASWARM_SANITIZE_LIBRARY_DIRS needs CMake 3.19 or newer")
  endif()
  function(_adaswarm_restrict_library)
    get_target_property(srcs adaswarm SOURCES)
    list(JOIN ADASWARM_SANITIZE_LIBRARY_DIRS "|" dirs)
    list(FILTER srcs INCLUDE REGEX "/src/lib/(${dirs})/")
    set_property(TARGET adaswarm PROPERTY SOURCES ${srcs})
    message(STATUS "adaswarm: library restricted to src/lib/{${ADASWARM_SANITIZE_LIBRARY_DIRS}}")
  endfunction()
  # Runs once this directory's CMakeLists.txt has defined the library.
  cmake_language(DEFER CALL _adaswarm_restrict_library)
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
