#!/usr/bin/env bash
# Configures and builds adaswarm into ./build (Release). Quiet when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" -- --no-print-directory | grep -vE '^\[ *[0-9]+%\] (Built|Linking|Building)' || true
test "${PIPESTATUS[0]}" -eq 0
