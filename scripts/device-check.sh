#!/usr/bin/env bash
# The CUDA check, in one run on the lent GPU machine (docs/vision.md, "The CUDA
# path"). That machine has Python's torch 2.x with CUDA, nvcc, CMake and ninja,
# and none of our Debian packages; scripts/device-prepare.sh put them (as .deb
# files) and a copy of the shared data into .device/, which the call carries:
#
#   run: carry [".device"], command "bash scripts/device-check.sh", timeout_s 600
#
# Steps, each bounded so that the whole ends inside DEADLINE seconds (default
# 500), each logged to $OUT and summed up in $OUT/summary.md:
#   1. the machine: GPU, compilers, torch;
#   2. unpack the packages (dpkg -x into a folder of their own, never /);
#   3. configure against Python's torch (Torch_DIR = torch.utils.cmake_prefix_path/Torch) and build;
#   4. ctest (every test; the CUDA tests run where a GPU is seen), then the CUDA tests on their own;
#   5. one epoch of `adaswarm train` with ResNet-18 on the shipped CIFAR-10 records on the GPU, and of
#      the CNN on Fashion-MNIST when its package was carried (else on the shared MNIST);
#   6. bench_vision --device cuda (AdaSwarm/Adam time per step, images/s, the GPU<->CPU share);
#   7. when time is left: the optional parts (distributed module, Python module) against the same torch.
#
# Elsewhere (no GPU) it runs the same steps on the CPU, as a dry run of the
# script: OUT defaults to out/device-check, the build to build-device;
# --build-dir DIR reuses a build, --skip-build skips step 3, CTEST_ARGS adds
# ctest arguments (CTEST_ARGS="-R TorchCompat" for a quick one).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=build-device
SKIP_BUILD=0
while (($#)); do
  case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    *) echo "usage: scripts/device-check.sh [--build-dir DIR] [--skip-build]" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$ROOT/out/device-check}
# CUDA's tools where the image keeps them, if not on PATH already.
for d in /usr/local/cuda/bin /opt/cuda/bin; do [[ -d $d ]] && PATH=$PATH:$d; done
export PATH
mkdir -p "$OUT"
DEADLINE=${DEADLINE:-500}
START=$(date +%s)
SUMMARY=$OUT/summary.md
: >"$SUMMARY"
JOBS=$(nproc)

left() { echo $((DEADLINE - ($(date +%s) - START))); }
# bounded CAP CMD...: runs CMD with at most CAP seconds, never past the deadline.
bounded() {
  local cap=$1; shift
  local l; l=$(left)
  ((l < cap)) && cap=$l
  ((cap < 5)) && { echo "(skipped: the deadline is reached)"; return 124; }
  timeout --kill-after=10 "$cap" "$@"
}
# step NAME LOG CAP CMD...: one step, its output in $OUT/LOG, a line in the summary.
step() {
  local name=$1 log=$2 cap=$3; shift 3
  local t0; t0=$(date +%s)
  echo "== $name ($(date -u +%H:%M:%S), $(left) s left)" | tee -a "$OUT/$log"
  bounded "$cap" "$@" >>"$OUT/$log" 2>&1
  local rc=$?
  local status=PASS
  ((rc != 0)) && status="FAIL (exit $rc$( ((rc == 124)) && echo ', time limit'))"
  echo "- $name: $status, $(($(date +%s) - t0)) s (log: $log)" | tee -a "$SUMMARY"
  return $rc
}

# 1. The machine. ($OUT brings back at most 8 files: summary.md and one log per step.)
{
  echo "# device check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "no nvidia-smi"
  echo "cores: $JOBS"
  c++ --version 2>&1 | head -1
  nvcc --version 2>&1 | tail -1
  cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.is_available())' 2>&1 | tail -1
} >>"$SUMMARY"

# 2. The carried packages, unpacked into a folder of their own.
PREFIX=/tmp/adaswarm-deps
mkdir -p "$PREFIX"
n=0
for f in .device/debs/*.deb; do
  [[ -e $f ]] || continue
  dpkg -x "$f" "$PREFIX" && n=$((n + 1))
done
echo "- unpacked $n carried packages into $PREFIX" | tee -a "$SUMMARY"

DATA=$ROOT/.device/shared/data
[[ -d $DATA ]] || DATA=$ROOT/../shared/data
FASHION=$PREFIX/usr/share/datasets/fashion-mnist
[[ -d $FASHION ]] || FASHION=/usr/share/datasets/fashion-mnist

# 3. Configure against Python's torch, build.
TORCH_DIR=$(python3 -c 'import os, torch; print(os.path.join(torch.utils.cmake_prefix_path, "Torch"))' 2>/dev/null)
[[ -f $TORCH_DIR/TorchConfig.cmake ]] || TORCH_DIR=""
CUDA_GPU=$(python3 -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0)
cfg=(-S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=$PREFIX/usr"
     "-DADASWARM_SHARED_DATA_DIR=$DATA" -DADASWARM_DIST=OFF -DADASWARM_PYTHON=OFF -DADASWARM_CTEST_PER_CASE=ON)
[[ -n $TORCH_DIR ]] && cfg+=("-DTorch_DIR=$TORCH_DIR")
command -v ninja >/dev/null && [[ ! -f $BUILD/CMakeCache.txt ]] && cfg+=(-G Ninja)
if [[ $CUDA_GPU == 1 ]]; then
  cfg+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)" -DCMAKE_CUDA_ARCHITECTURES=90 "-DTORCH_CUDA_ARCH_LIST=9.0")
fi
echo "- Torch_DIR: ${TORCH_DIR:-(the system LibTorch)}; GPU seen by torch: $CUDA_GPU" | tee -a "$SUMMARY"
if [[ $SKIP_BUILD == 0 ]]; then
  step configure build.log 150 cmake "${cfg[@]}" || { echo "configure failed" >>"$SUMMARY"; exit 1; }
  step build build.log 330 cmake --build "$BUILD" -j"$JOBS" || { tail -n 60 "$OUT/build.log"; exit 1; }
fi
CLI=$BUILD/adaswarm
export ADASWARM_SHARED_DATA=$DATA

# 4. The tests: the CUDA ones first and on their own (a failure there is the news), then all.
DEV=cpu
[[ $CUDA_GPU == 1 ]] && DEV=cuda
step "CUDA tests" tests.log 120 "$BUILD/tests/test_cuda" --gtest_color=no
# shellcheck disable=SC2086  # CTEST_ARGS: extra ctest arguments, e.g. "-R TorchCompat" for a dry run
step "ctest (all tests, -j$JOBS) ${CTEST_ARGS:-}" tests.log 200 ctest --test-dir "$BUILD" -j"$JOBS" --output-on-failure \
  --timeout 150 -E '^Cuda\.' ${CTEST_ARGS:-}

# 5. One epoch each (on a CPU dry run, of the first 2000 images).
TMPLOG=$(mktemp -d)
limit=()
[[ $DEV == cpu ]] && limit=(--train-limit 2000 --test-limit 500)
step "train resnet18 cifar10 (shipped records) on $DEV" train.log 90 \
  "$CLI" train --model resnet18 --dataset cifar10 --data-dir "$DATA/cifar10" --holdout 50 --optimizer adaswarm \
  --epochs 1 --batch-size 25 --device "$DEV" --progress off --log "$TMPLOG/train-resnet18.jsonl"
if [[ -d $FASHION ]]; then
  step "train cnn fashion-mnist on $DEV" train.log 90 \
    "$CLI" train --model cnn --dataset fashion-mnist --data-dir "$FASHION" --optimizer adaswarm --epochs 1 \
    --batch-size 125 --device "$DEV" --progress off --log "$TMPLOG/train-cnn.jsonl" "${limit[@]}"
else
  step "train cnn mnist (shared) on $DEV" train.log 90 \
    "$CLI" train --model cnn --dataset mnist --data-dir "$DATA/mnist" --optimizer adaswarm --epochs 1 \
    --batch-size 125 --device "$DEV" --progress off --log "$TMPLOG/train-cnn.jsonl" "${limit[@]}"
fi

cat "$TMPLOG"/*.jsonl >>"$OUT/train.log" 2>/dev/null

# 6. The vision bench on the device.
bench=(--device "$DEV")
[[ $DEV == cpu ]] && bench+=(--rounds 2 --cnn-steps 2 --resnet-rounds 1)
[[ $DEV == cuda ]] && bench+=(--rounds 7 --cnn-steps 20 --resnet-rounds 5 --resnet-steps 10)
step "bench_vision ${bench[*]}" bench.log 120 "$BUILD/bench/bench_vision" "${bench[@]}"
grep -E "img/s|block|share|swarm loss alone" "$OUT/bench.log" >>"$SUMMARY"

# 7. The optional parts, with what time is left.
if (($(left) > 150)); then
  EX=$BUILD-extras
  ecfg=(-S "$ROOT" -B "$EX" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=$PREFIX/usr" -DADASWARM_DIST=ON
        -DADASWARM_PYTHON=ON)
  [[ -n $TORCH_DIR ]] && ecfg+=("-DTorch_DIR=$TORCH_DIR")
  [[ $CUDA_GPU == 1 ]] && ecfg+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)" -DCMAKE_CUDA_ARCHITECTURES=90)
  command -v ninja >/dev/null && [[ ! -f $EX/CMakeCache.txt ]] && ecfg+=(-G Ninja)
  PYB=$(python3 -m pybind11 --cmakedir 2>/dev/null) && ecfg+=("-Dpybind11_DIR=$PYB")
  if step "extras: configure (dist + python)" extras.log 60 cmake "${ecfg[@]}" -DADASWARM_BUILD_TESTS=OFF \
      -DADASWARM_BUILD_BENCH=OFF -DADASWARM_BUILD_CLI=OFF; then
    step "extras: build" extras.log 240 cmake --build "$EX" -j"$JOBS"
    grep -E "distributed module|Python module" "$OUT/extras.log" >>"$SUMMARY"
  fi
else
  echo "- extras: skipped ($(left) s left)" >>"$SUMMARY"
fi
echo "- total: $(($(date +%s) - START)) s" | tee -a "$SUMMARY"
cat "$SUMMARY"
