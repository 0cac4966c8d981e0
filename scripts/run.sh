#!/usr/bin/env bash
# First command of the README: install what is missing, build, and run the main
# job on the embedded data (the UCI tables in quick mode).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec ./build/adaswarm tables --quick "$@"
