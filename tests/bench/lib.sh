# shellcheck shell=bash
# Shared by the benchmark scripts: a work directory, the processes they start
# (PIDS) stopped on exit, and the list of figures that could not be measured
# (broken). Sourced, not run: `source lib.sh NAME` (NAME for the work
# directory and the interrupt message).

work=$(mktemp -d "${TMPDIR:-/tmp}/tierscope-$1.XXXXXX")
PIDS=()
# shellcheck disable=SC2034  # read by the scripts that source this
broken=()  # what could not be measured
BENCH_SCRIPT=$(basename "$0")

# stop_pid PID: SIGTERM, SIGKILL after 3 s, reaped.
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "$BENCH_SCRIPT: interrupted" >&2; exit 1' INT TERM HUP
