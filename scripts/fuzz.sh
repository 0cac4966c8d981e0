#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into ./build-fuzz and runs
# each for SECONDS (default 60) on a corpus seeded from the shipped data
# (docs/hardening.md). A crash stops that target and leaves the input as
# build-fuzz/artifacts/<target>/crash-*; the script exits non-zero if any
# target found something.
# Environment: BUILD_DIR (build-fuzz), JOBS (nproc), FUZZ_NO_BUILD=1 (run what is built).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: fuzz_csv fuzz_idx fuzz_cifar fuzz_runs_file
#                                                  fuzz_checkpoint fuzz_checkpoint_records)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(fuzz_csv fuzz_idx fuzz_cifar fuzz_runs_file fuzz_checkpoint fuzz_checkpoint_records)
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
command -v clang++ >/dev/null || { echo "fuzz.sh: needs clang++ (apt-get install clang)" >&2; exit 2; }

source scripts/sanitize-env.sh   # ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS

if [[ -n "${FUZZ_NO_BUILD:-}" ]]; then
  :   # FUZZ_NO_BUILD=1: run what is built
elif [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DADASWARM_SANITIZE=address,undefined -DADASWARM_FUZZ=ON -DADASWARM_BUILD_TESTS=OFF \
    -DADASWARM_BUILD_CLI=OFF -DADASWARM_BUILD_BENCH=OFF >/dev/null
else
  cmake "$BUILD_DIR" >/dev/null
fi
[[ -n "${FUZZ_NO_BUILD:-}" ]] || {
set +e
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TARGETS[@]}" -- --no-print-directory 2>&1 |
  grep -vE '^\[ *[0-9]+%\] (Built|Linking|Building)'
build_status=${PIPESTATUS[0]}
set -e
[[ $build_status -eq 0 ]] || { echo "${0##*/}: the build failed" >&2; exit 1; }
}

# ---- seeds: small files made here (plus fuzz/corpus/<target>/, committed) ----
SEEDS="$BUILD_DIR/seeds"
rm -rf "$SEEDS"
mkdir -p "$SEEDS"/{fuzz_csv,fuzz_idx,fuzz_cifar,fuzz_runs_file,fuzz_checkpoint,fuzz_checkpoint_records}
python3 - "$SEEDS" <<'PY'
import gzip, os, struct, sys, glob
out = sys.argv[1]
def put(target, name, data):
    with open(os.path.join(out, target, name), "wb") as f: f.write(data)
# CSV: the first lines of each shipped UCI file; the first byte is the options
# byte of fuzz_csv (bit 2: whitespace-separated, bit 3: header).
for path in sorted(glob.glob("data/uci/*/*")):
    if path.endswith((".md", ".names")): continue
    text = open(path, "rb").read()[:1200]
    text = text[: text.rfind(b"\n") + 1] or text
    ws = b"," not in text.split(b"\n")[0]
    header = text[:1].isalpha()
    put("fuzz_csv", os.path.basename(os.path.dirname(path)), bytes([(4 if ws else 0) | (8 if header else 0)]) + text)
put("fuzz_csv", "quoted", b"\x08a,b,c\n\"x, \"\"y\"\"\",1,\r\n'q',2,\"multi\nline\"\n")
# idx: 2 images 6x5, 5 labels; plain and gzip.
def idx(dims, body): return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body
images = idx([2, 6, 5], bytes((i * 29) % 256 for i in range(60)))
labels = idx([5], bytes([0, 3, 9, 1, 7]))
put("fuzz_idx", "images", images); put("fuzz_idx", "labels", labels)
put("fuzz_idx", "images.gz", gzip.compress(images, mtime=0)); put("fuzz_idx", "labels.gz", gzip.compress(labels, mtime=0))
# CIFAR: one CIFAR-10 record, one CIFAR-100 record, and a gzipped one.
pix = bytes((i * 7) % 256 for i in range(3072))
put("fuzz_cifar", "cifar10", bytes([3]) + pix)
put("fuzz_cifar", "cifar100", bytes([4, 42]) + pix)
put("fuzz_cifar", "cifar10.gz", gzip.compress(bytes([9]) + pix, mtime=0))
# runs files: fingerprint "fp" (the target's), another fingerprint, a torn last line.
put("fuzz_runs_file", "good", b'{"fingerprint":"fp","loss":"ce","seed":1,"acc":0.5}\n\n{"fingerprint":"fp","x":[1,2]}\n')
put("fuzz_runs_file", "torn", b'{"fingerprint":"fp","seed":2}\n{"fingerprint":"fp","se')
put("fuzz_runs_file", "other", b'{"fingerprint":"zz"}\n')
PY
for t in "${TARGETS[@]}"; do
  [[ -d "fuzz/corpus/$t" ]] && cp fuzz/corpus/"$t"/* "$SEEDS/$t/" 2>/dev/null || true
done
for t in fuzz_checkpoint fuzz_checkpoint_records; do   # a valid checkpoint (or its records) made by the target
  if [[ " ${TARGETS[*]} " == *" $t "* ]]; then ADASWARM_FUZZ_SEED_DIR="$SEEDS/$t" "$BUILD_DIR/fuzz/$t" >/dev/null; fi
done

# ---- run ----
status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD_DIR/corpus/$t" artifacts="$BUILD_DIR/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$BUILD_DIR/$t.log"
  echo "== $t: ${SECONDS_EACH}s (log: $log)"
  max_len=16384
  [[ $t == fuzz_checkpoint* ]] && max_len=65536   # a seed checkpoint is about 27 KB
  if "$BUILD_DIR/fuzz/$t" -max_total_time="$SECONDS_EACH" -max_len=$max_len -timeout=20 -rss_limit_mb=6144 \
       -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$SEEDS/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$log" | tr '\n' ' '; echo
  else
    status=1
    echo "!! $t found a problem:"; grep -E 'ERROR|SUMMARY|Test unit written|runtime error|fuzz:' "$log" | head -20
  fi
done
exit $status
