#!/usr/bin/env bash
# Installs the Debian packages adaswarm builds and runs with; installs only what
# is missing and prints nothing when everything is already there.
# Usage: scripts/install-deps.sh [--bench] [--python]
#   --bench adds pagmo2 and PySwarms; --python adds what the Python module
#   (python/, `import adaswarm`) builds and tests with: pybind11, PyTorch, pytest
set -euo pipefail
pkgs=(build-essential cmake libtorch-dev libfmt-dev libgtest-dev libgmock-dev libcli11-dev
      nlohmann-json3-dev libopenblas0-openmp dataset-fashion-mnist zlib1g-dev
      libgloo-dev)  # libgloo-dev: headers for the distributed (c10d Gloo) module
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(libbenchmark-dev libpagmo-dev python3-pyswarms python3-matplotlib python3-torch) ;;
    --python) pkgs+=(pybind11-dev python3-torch python3-pytest) ;;
    *) echo "usage: scripts/install-deps.sh [--bench] [--python]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "adaswarm: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
