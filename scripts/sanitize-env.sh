# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: runtime options of the
# sanitizers (docs/hardening.md). Suppressions cover third-party code only; each
# entry in scripts/lsan.supp and scripts/ubsan.supp says why it is there.
_adaswarm_scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:check_initialization_order=1:detect_stack_use_after_return=1:strict_string_checks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$_adaswarm_scripts/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$_adaswarm_scripts/ubsan.supp}"
