#!/usr/bin/env bash
# Installs adaswarm into a temporary prefix and builds examples/consumer against
# it with find_package(adaswarm), then runs the consumer.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix" >/dev/null
cmake -S examples/consumer -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer-build" -j"$(nproc)" >/dev/null
"$prefix/consumer-build/consumer"
