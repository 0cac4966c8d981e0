#!/usr/bin/env bash
# Prepares, on a development machine, what scripts/device-check.sh needs on the
# lent GPU machine (docs/vision.md, "The CUDA path"), where nothing can be
# fetched: the Debian packages that our build needs and that image lacks, as
# .deb files, and a copy of the shared data the tests and the trainer read. Both
# go to the ignored folder .device/, which the device call carries:
#
#   scripts/device-prepare.sh [--fashion]     # --fashion: also Fashion-MNIST (about 30 MB)
#   run: carry [".device"], command "bash scripts/device-check.sh", timeout_s 600
#
# Idempotent: packages already downloaded are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
fashion=0
for a in "$@"; do
  case "$a" in
    --fashion) fashion=1 ;;
    *) echo "usage: scripts/device-prepare.sh [--fashion]" >&2; exit 2 ;;
  esac
done
grep -qx '/.device/' .gitignore 2>/dev/null || { echo "device-prepare: .gitignore must list /.device/" >&2; exit 1; }

# Header-only and static parts of our build (fmt, CLI11, nlohmann-json, GoogleTest,
# zlib's headers), with the shared libraries their CMake files name; gloo's
# headers for the optional distributed build.
pkgs=(libfmt-dev libfmt9 libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev zlib1g-dev zlib1g
      libgloo-dev)
[[ $fashion == 1 ]] && pkgs+=(dataset-fashion-mnist)
mkdir -p .device/debs
(
  cd .device/debs
  missing=()
  for p in "${pkgs[@]}"; do compgen -G "${p}_*.deb" >/dev/null || missing+=("$p"); done
  if ((${#missing[@]})); then
    apt-get download "${missing[@]}" >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null && apt-get download "${missing[@]}" >/dev/null
    }
  fi
)

# The shared data (MNIST, the CIFAR-10 records, UCI, PGSO) beside the checkout.
src=../shared/data
[[ -d $src ]] || { echo "device-prepare: $src not found (the shared data beside the checkout)" >&2; exit 1; }
mkdir -p .device/shared
rm -rf .device/shared/data.tmp
cp -rL "$src" .device/shared/data.tmp
rm -rf .device/shared/data
mv .device/shared/data.tmp .device/shared/data

size=$(du -sm .device | cut -f1)
tree=$(git ls-files -z | du -cm --files0-from=- 2>/dev/null | tail -1 | cut -f1)
echo "device-prepare: .device/ holds ${size} MiB ($(ls .device/debs | wc -l) packages); with the tracked tree" \
     "(${tree} MiB) under the device call's 64 MiB limit: $([[ $((size + tree)) -lt 64 ]] && echo yes || echo NO)"
