#!/usr/bin/env bash
# Builds the test suite with AddressSanitizer + UndefinedBehaviorSanitizer into
# ./build-asan (-O1, line tables) and runs it (docs/hardening.md).
# Usage: scripts/sanitize.sh            every test executable
#        scripts/sanitize.sh --ci       the CI subset (readers, atomic writer, runs file, swarm kernels),
#                                       in ./build-asan-ci with a library of just what they use
#        scripts/sanitize.sh test_csv test_util ...   these tests/test_*.cpp executables
# Environment: BUILD_DIR (build-asan), JOBS (nproc), CXX (the compiler: g++ or clang++),
# GTEST_FILTER (passed to the executables).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
# The CI subset: the tests of our parsers and readers (CSV, tabular, idx, CIFAR,
# UCI), the atomic writer and runs file, and the swarm / swarm-loss kernels.
CI_TESTS=(test_hardening test_csv test_images test_uci test_util test_swarm test_gradient test_swarm_loss)
CONFIGURE_ARGS=()
OPT="-O1 -g1"
if [[ "${1:-}" == "--ci" ]]; then
  TESTS=("${CI_TESTS[@]}")
  # Those tests need neither the CLI nor the library's experiments, models,
  # optimizers, PGSO or dist code: a library of data, util, swarm and loss
  # only, in its own folder (docs/hardening.md).
  BUILD_DIR=${BUILD_DIR_CI:-build-asan-ci}
  CONFIGURE_ARGS=(-DADASWARM_BUILD_CLI=OFF "-DADASWARM_SANITIZE_LIBRARY_DIRS=data;util;swarm;loss")
  # -O0 in CI: a quarter less compile time (the build is most of this step's
  # minutes; the subset's tests run in seconds either way).
  OPT="-O0 -g1"
elif [[ $# -gt 0 ]]; then
  TESTS=("$@")
else
  TESTS=()
  for f in tests/test_*.cpp; do TESTS+=("$(basename "$f" .cpp)"); done
fi

source scripts/sanitize-env.sh   # ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS (also for the build's test discovery)

if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="$OPT" \
    -DADASWARM_SANITIZE=address,undefined -DADASWARM_BUILD_BENCH=OFF "${CONFIGURE_ARGS[@]}" >/dev/null
else
  cmake "$BUILD_DIR" >/dev/null   # picks up new tests/test_*.cpp files
fi
set +e
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TESTS[@]}" -- --no-print-directory 2>&1 |
  grep -vE '^\[ *[0-9]+%\] (Built|Linking|Building)'
build_status=${PIPESTATUS[0]}
set -e
[[ $build_status -eq 0 ]] || { echo "${0##*/}: the build failed" >&2; exit 1; }

# Each executable runs whole (JOBS at a time) from the tests' build folder, as ctest would.
mkdir -p "$BUILD_DIR/sanitize-logs"
run_one() {
  local t=$1 log="$BUILD_DIR/sanitize-logs/$1.log"
  if (cd "$BUILD_DIR/tests" && "./$t" ${GTEST_FILTER:+--gtest_filter="$GTEST_FILTER"}) >"$log" 2>&1; then
    echo "ok   $t ($(grep -Eo '[0-9]+ tests? from [0-9]+ test suites? ran. \([0-9]+ ms' "$log" | tail -n 1)))"
  else
    echo "FAIL $t (log: $log)"
    grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error|SUMMARY|\[  FAILED  \]' "$log" | head -n 20
    return 1
  fi
}
export -f run_one
export BUILD_DIR GTEST_FILTER
printf '%s\n' "${TESTS[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
