#!/usr/bin/env bash
# First command of the README: install what is missing, build, and run the main
# job on the embedded data (the UCI tables in quick mode).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# A rerun replaces the previous quick run's results (tables refuses an existing
# runs file without --overwrite or --resume), unless one of them is given here.
mode=(--overwrite)
for a in "$@"; do
  case "$a" in --resume|--overwrite) mode=() ;; esac
done
exec ./build/adaswarm tables --quick "${mode[@]}" "$@"
