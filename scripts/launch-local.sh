#!/usr/bin/env bash
# Starts N ranks of a command on this machine, the way torchrun does: each gets
# RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and
# MASTER_PORT (a free port unless MASTER_PORT is set), and OMP_NUM_THREADS =
# cores / N unless set. Needs nothing but bash (Debian's torchrun 1.13 fails on
# Python 3.11).
#
#   scripts/launch-local.sh N -- COMMAND [ARGS...]
#   scripts/launch-local.sh 2 -- build/adaswarm pgso scaling --threads 1
#
# When a rank fails, the others get a few seconds to report their own errors and
# are then stopped; the exit status is the first failed rank's (0 if all
# succeeded). Ctrl-C reaches every rank (they stop after the current batch) and
# the script waits for them; its status is then the first non-zero rank's (130
# from `adaswarm train`).
set -uo pipefail
usage() { echo "usage: scripts/launch-local.sh N -- COMMAND [ARGS...]   (N ranks on 127.0.0.1)" >&2; exit 2; }
[[ $# -ge 3 && "$2" == "--" ]] || usage
n=$1
shift 2
[[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || { echo "launch-local.sh: N must be an integer >= 1, got '$n'" >&2; exit 2; }

port=${MASTER_PORT:-}
if [[ -z "$port" ]]; then
  if command -v python3 >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  else
    port=$((20000 + RANDOM % 30000))
  fi
fi
cores=$(nproc)
threads=${OMP_NUM_THREADS:-$(( cores / n > 0 ? cores / n : 1 ))}

pids=()
for ((r = 0; r < n; r++)); do
  RANK=$r LOCAL_RANK=$r WORLD_SIZE=$n LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    OMP_NUM_THREADS=$threads "$@" &
  pids+=($!)
done

forward() { kill -s "$1" "${pids[@]}" 2>/dev/null; }
interrupted=0
trap 'interrupted=1; forward INT' INT
trap 'forward TERM' TERM

status=0
stopper=""
declare -A alive
for ((r = 0; r < n; r++)); do alive[${pids[$r]}]=$r; done
while ((${#alive[@]} > 0)); do
  done_pid=""
  wait -n -p done_pid "${!alive[@]}"
  rc=$?
  # interrupted by a trapped signal (Ctrl-C): bash leaves done_pid unset, hence :-
  [[ -z "${done_pid:-}" ]] && continue
  rank=${alive[$done_pid]}
  unset "alive[$done_pid]"
  if ((rc != 0 && status == 0)); then
    status=$rc
    if ((interrupted)); then  # Ctrl-C: every rank has it already; 130 is how they stop
      ((rc == 130)) || echo "launch-local.sh: rank $rank exited with status $rc after Ctrl-C" >&2
    else
      echo "launch-local.sh: rank $rank exited with status $rc; stopping the other ranks in 5 s" >&2
      ( sleep 5; forward TERM ) >/dev/null 2>&1 &  # (its sleep must not hold a pipe on our output open)
      stopper=$!
    fi
  fi
done
[[ -n "$stopper" ]] && kill "$stopper" 2>/dev/null
exit $status
