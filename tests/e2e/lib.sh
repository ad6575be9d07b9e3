# Shared helpers for the end-to-end scripts: start the real binary, find its
# port, scrape it over HTTP on 127.0.0.1, read single values. Sourced, not run.

set -euo pipefail

fail() { echo "FAIL: $*" >&2; [[ -n "${LOG:-}" && -f "${LOG:-}" ]] && { echo "--- daemon log:" >&2; cat "$LOG" >&2; }; exit 1; }

TMP=$(mktemp -d)
DAEMON_PID=""
cleanup_e2e() {
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup_e2e EXIT

# start_daemon BIN CONFIG [ARGS...]: starts `BIN daemon --config CONFIG ARGS`,
# waits (<= 10 s) for its "listening on" line; sets DAEMON_PID, PORT, LOG.
start_daemon() {
  local bin=$1 config=$2; shift 2
  LOG=$TMP/daemon.log
  : >"$LOG"  # exists before the first read below (the redirection happens in the child)
  "$bin" daemon --config "$config" "$@" 2>"$LOG" &
  DAEMON_PID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's|.*listening on https\{0,1\}://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$LOG" | head -1)
    [[ -n "$PORT" ]] && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited before listening"
    sleep 0.1
  done
  fail "daemon did not log its listening address within 10 s"
}

scrape() { curl -sSf --max-time 5 "http://127.0.0.1:$PORT/metrics"; }

# value FILE 'series{labels}' : the sample value of one exact series line.
value() { awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) exit 1 }' "$1"; }

# wait_samples N: until tierscope_samples_total >= N (<= 10 s).
wait_samples() {
  local want=$1 got
  for _ in $(seq 100); do
    scrape >"$TMP/poll.prom" || true
    got=$(value "$TMP/poll.prom" tierscope_samples_total 2>/dev/null || echo 0)
    awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= w) }' && return 0
    sleep 0.1
  done
  fail "tierscope_samples_total did not reach $want"
}

# wait_log PATTERN: until the daemon log has a line matching PATTERN (<= 10 s).
wait_log() {
  for _ in $(seq 100); do grep -q -- "$1" "$LOG" && return 0; sleep 0.1; done
  fail "no log line matching '$1'"
}

# stop_daemon: SIGTERM, expects exit code 0 within 2 s and a "stopped" line.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local rc=0
  for _ in $(seq 20); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$DAEMON_PID" 2>/dev/null && fail "daemon still running 2 s after SIGTERM"
  wait "$DAEMON_PID" || rc=$?
  DAEMON_PID=""
  [[ $rc -eq 0 ]] || fail "daemon exited with $rc after SIGTERM"
  grep -q ' stopped$' "$LOG" || fail "no 'stopped' log line"
}

# fixture_config HOST FILE [EXTRA YAML]: a config reading tests/fixtures/HOST;
# HOST may be PROCHOST+SYSHOST to take /proc and /dev from one fixture and
# /sys from another (a GPU tree beside a host's procfs).
fixture_config() {
  local base=$TIERSCOPE_SOURCE_DIR/tests/fixtures
  local proc=$base/${1%%+*} sys=$base/${1##*+}
  cat >"$2" <<YAML
sample_interval: 100ms
peak_window: 1s
listen: 127.0.0.1:0
roots: {procfs: $proc/proc, sysfs: $sys/sys, devfs: $proc/dev}
${3:-}
YAML
}

# port_from_log FILE SED_SCRIPT PID WHAT: waits (<= 10 s, while PID runs)
# until `sed -n SED_SCRIPT FILE` prints a port number, and prints it.
port_from_log() {
  local file=$1 script=$2 pid=$3 what=$4 port=""
  for _ in $(seq 100); do
    port=$(sed -n "$script" "$file" 2>/dev/null | head -1)
    [[ -n "$port" ]] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || fail "$what exited before listening: $(cat "$file")"
    sleep 0.1
  done
  fail "$what did not report its port within 10 s: $(cat "$file")"
}

# start_mock_engine BIN ARGS...: the mock engine (tests/workloads/mock_engine)
# on a port it picks, its output in $TMP/mock.{out,err}; sets MOCK_PID and
# MOCK_PORT.
start_mock_engine() {
  local bin=$1; shift
  "$bin" --port 0 "$@" >"$TMP/mock.out" 2>"$TMP/mock.err" &
  MOCK_PID=$!
  MOCK_PORT=$(port_from_log "$TMP/mock.out" 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$MOCK_PID" mock_engine)
}

# stop_pids PID...: SIGTERM to each that still runs, SIGKILL 2 s later; for
# EXIT traps (never fails).
stop_pids() {
  local p
  for p in "$@"; do
    if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
}

# The live budget tests' prerequisites: root (budgets make cgroups), jq, and a
# memory controller (cgroup v2 with `memory` enabled, or v1's memory
# hierarchy); a missing one skips the test (77) saying which.
require_root_memcg() {
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (the budget makes cgroups)"; exit 77; }
  command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
  if ! { [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; } &&
     [[ ! -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]]; then
    echo "SKIP: no memory controller"; exit 77
  fi
}
