#!/usr/bin/env bash
# Installs adaswarm into a temporary prefix and builds examples/consumer against
# it with find_package(adaswarm), as an outside project would, then checks what
# the package gives it and runs the consumer:
#   - a consumer that asks for C++14 is compiled as C++17 (cxx_std_17 on the target);
#   - no -fopenmp in the consumer's compile flags (OpenMP is link-only);
#   - the package config does not require fmt or nlohmann_json (build-only);
#   - the include directory is passed once.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "check-install: $*" >&2; exit 1; }
cmake --install build --prefix "$prefix" >/dev/null
config=$(find "$prefix" -name 'adaswarmConfig.cmake' | head -1)
[[ -n "$config" ]] || fail "no adaswarmConfig.cmake installed"
if grep -Eq 'find_dependency\((fmt|nlohmann_json)' "$config"; then
  fail "$config requires a private dependency: $(grep -E 'find_dependency\((fmt|nlohmann_json)' "$config")"
fi
cmake -S examples/consumer -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_CXX_STANDARD=14 -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$prefix/consumer-build" -j"$(nproc)" >/dev/null
cmd=$(grep -m1 '"command"' "$prefix/consumer-build/compile_commands.json")
grep -Eq -- '-std=(c|gnu)\+\+17' <<<"$cmd" || fail "a C++14 consumer is not compiled as C++17: $cmd"
grep -q -- '-fopenmp' <<<"$cmd" && fail "-fopenmp leaks into the consumer's compile flags: $cmd"
n=$(grep -o -- "$prefix/include\b" <<<"$cmd" | wc -l)
[[ "$n" -eq 1 ]] || fail "the include directory is passed $n times: $cmd"
"$prefix/consumer-build/consumer"
# The Python package, when the build made it (docs/python.md): importable from the
# prefix alone, with the interpreter the build chose.
site="$prefix/lib/python3/dist-packages"
if compgen -G "$site/adaswarm/_core*.so" >/dev/null; then
  py=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' build/CMakeCache.txt)
  (cd "$prefix" && PYTHONPATH="$site" "${py:-/usr/bin/python3}" -c "
import adaswarm, torch
assert adaswarm.__file__.startswith('$site'), adaswarm.__file__
y = torch.randn(8, 3, requires_grad=True)
adaswarm.SwarmLoss('mse')(y, torch.zeros(8, 3)).backward()
assert adaswarm.pgso.minimize('sphere', dim=2, iterations=50).fun < 1e-6
") || fail "the installed Python package does not import or run from $site"
fi
