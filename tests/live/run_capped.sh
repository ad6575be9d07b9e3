#!/usr/bin/env bash
# End to end on this host's real kernel: `tierscope run-capped` puts memhog
# (tests/fakes/memhog.cpp, touches a known number of MiB) under a memory
# budget, the kernel enforces it, and run-capped reports where the memory was.
#   1. memhog 16 under --memory-max 48M: exit 0; the limit read back is 48M
#      exactly; the peak is at least the 16 MiB touched and at most the limit;
#      the cgroup it made is gone afterwards.
#   2. memhog 160 under --memory-max 48M --swap-max 0: the kernel's OOM killer
#      ends it (exit 137 = 128 + SIGKILL), run-capped says so and counts the kill.
#   3. SIGTERM to run-capped: the command is stopped, exit 143, cgroup gone.
#   4. Refusals before anything starts: memory_high on a cgroup v1 host,
#      --backend systemd where systemd is not PID 1, not root (as nobody), a
#      program that does not exist; usage errors (64).
# Needs root and a memory controller (cgroup v2 with memory, or v1 memory);
# skips (77) otherwise. Where systemd is PID 1 the budget is a transient
# scope; this test then checks the same outcomes through it.
source "$(dirname "$0")/../e2e/lib.sh"
bin=$(realpath "$1")
memhog=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (it creates cgroups)"
command -v jq >/dev/null || skip "jq not installed"
if [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  version=v2
elif [[ -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]]; then
  version=v1
else
  skip "no memory controller (neither cgroup v2 with memory nor v1 memory)"
fi
pass() { echo "ok: $*"; }

# capped OUT ARGS... : runs run-capped with --out OUT; sets RC and ERR (its stderr).
capped() {
  local out=$1; shift
  RC=0
  "$bin" run-capped --out "$out" --interval 100ms "$@" 2>"$TMP/err" >"$TMP/stdout" || RC=$?
  ERR=$(cat "$TMP/err")
}
cgroup_gone() {
  local cg
  cg=$(jq -r '.budget.cgroup // empty' "$1/run-capped.json")
  [[ -n $cg ]] || fail "run-capped.json names no cgroup"
  local root=/sys/fs/cgroup
  [[ $version == v1 ]] && root=/sys/fs/cgroup/memory
  [[ ! -e $root$cg ]] || fail "cgroup $cg is still there after run-capped ended"
}

# ---- 1. within the budget ---------------------------------------------------
capped "$TMP/ok" --memory-max 48M -- "$memhog" 16 1
[[ $RC -eq 0 ]] || fail "memhog 16 under 48M: exit $RC: $ERR"
grep -q "touched 16 MiB" "$TMP/stdout" || fail "the command's stdout did not reach run-capped's: $(cat "$TMP/stdout")"
j=$TMP/ok/run-capped.json
echo "$ERR" | sed 's/^/  run-capped: /'
[[ $(jq -r '.budget.applied.memory_max' "$j") == $((48 << 20)) ]] || fail "memory_max read back as $(jq -c .budget.applied "$j")"
peak=$(jq -r '.peak_bytes.memory' "$j")
anon=$(jq -r '.peak_bytes.ram_anon' "$j")
(( peak >= 16 << 20 && peak <= 48 << 20 )) || fail "peak $peak B is not between the 16 MiB touched and the 48 MiB limit"
(( anon >= 16 << 20 )) || fail "peak anonymous memory $anon B < the 16 MiB memhog touched"
(( $(wc -l <"$TMP/ok/samples.jsonl") >= 3 )) || fail "fewer than 3 samples in 1 s at 100 ms"
[[ $(jq -r '.oom_killed' "$j") == false && $(jq -r '.exit_code' "$j") == 0 ]] || fail "exit recorded as $(jq -c '{exit, exit_code, oom_killed}' "$j")"
cgroup_gone "$TMP/ok"
pass "memhog 16 MiB under memory_max 48M ($(jq -r .budget.backend "$j"), $(jq -r .budget.cgroup "$j")): exit 0, peak $((peak >> 10)) KiB, anon $((anon >> 10)) KiB, limit read back 48M, cgroup removed"

# ---- 2. past the budget, no swap: the OOM killer ------------------------------
capped "$TMP/oom" --memory-max 48M --swap-max 0 -- "$memhog" 160
[[ $RC -eq 137 ]] || fail "memhog 160 under 48M without swap: exit $RC (expected 137): $ERR"
echo "$ERR" | grep -q "OOM killer" || fail "run-capped did not say the OOM killer ended it: $ERR"
j=$TMP/oom/run-capped.json
[[ $(jq -r '.oom_killed' "$j") == true ]] || fail "oom_killed not recorded: $(jq -c . "$j")"
(( $(jq -r '.events.oom_kill' "$j") >= 1 )) || fail "no oom_kill counted: $(jq -c .events "$j")"
(( $(jq -r '.peak_bytes.memory' "$j") <= 48 << 20 )) || fail "peak above the limit: $(jq -c .peak_bytes "$j")"
cgroup_gone "$TMP/oom"
pass "memhog 160 MiB under memory_max 48M, swap_max 0: exit 137, $(jq -r .events.oom_kill "$j") OOM kill(s) counted, peak $(( $(jq -r .peak_bytes.memory "$j") >> 10 )) KiB"

# ---- 3. SIGTERM stops the command ---------------------------------------------
"$bin" run-capped --out "$TMP/term" --memory-max 64M -- "$memhog" 8 30 2>"$TMP/term.err" >/dev/null &
rcpid=$!
for _ in $(seq 50); do [[ -s $TMP/term/samples.jsonl ]] && break; sleep 0.1; done
kill -TERM "$rcpid"
rc=0
wait "$rcpid" || rc=$?
[[ $rc -eq 143 ]] || fail "after SIGTERM run-capped exited $rc (expected 143 = the command's SIGTERM): $(cat "$TMP/term.err")"
cgroup_gone "$TMP/term"
pass "SIGTERM: the command was stopped (exit 143), cgroup removed"

# ---- 4. refusals before anything starts ----------------------------------------
if [[ $version == v1 && $(cat /proc/1/comm) != systemd ]]; then
  capped "$TMP/high" --memory-high 32M -- "$memhog" 1
  [[ $RC -eq 1 && $ERR == *"memory_high needs cgroup v2"* ]] || fail "memory_high on v1: exit $RC: $ERR"
  [[ ! -e $TMP/high/samples.jsonl ]] || fail "memory_high on v1 started something"
  pass "memory_high on a cgroup v1 host: exit 1, $ERR"
fi
if [[ ! -d /run/systemd/system ]]; then
  # --backend systemd where systemd is not PID 1 (no /run/systemd/system).
  capped "$TMP/nosd" --backend systemd --memory-max 64M -- "$memhog" 1
  [[ $RC -eq 1 && $ERR == *"backend systemd"*"systemd is not PID 1 on this machine"* ]] ||
    fail "--backend systemd without systemd as PID 1: exit $RC: $ERR"
  [[ ! -e $TMP/nosd/samples.jsonl ]] || fail "--backend systemd without systemd started something"
  pass "--backend systemd where systemd is not PID 1: exit 1, $ERR"
fi
capped "$TMP/missing" --memory-max 64M -- /nonexistent/engine --flag
[[ $RC -eq 1 && $ERR == *"/nonexistent/engine"* ]] || fail "a missing program: exit $RC: $ERR"
pass "a missing program: exit 1, $(echo "$ERR" | head -1)"
# As nobody: a copy of both executables where nobody can run them (the build
# tree may sit in a 0700 directory).
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
  mkdir -p "$TMP/nobody" && chmod 755 "$TMP" "$TMP/nobody"
  cp "$bin" "$(dirname "$bin")/tierscope-workloads" "$memhog" "$TMP/nobody/"
  rc=0
  (cd "$TMP/nobody" && setpriv --reuid=65534 --regid=65534 --clear-groups ./tierscope run-capped --backend cgroup --memory-max 64M -- ./memhog 1) \
    2>"$TMP/nobody.err" >/dev/null || rc=$?
  [[ $rc -eq 1 ]] && grep -q "not root" "$TMP/nobody.err" || fail "as nobody: exit $rc: $(cat "$TMP/nobody.err")"
  pass "as nobody: exit 1, $(cat "$TMP/nobody.err")"
fi
for args in "--memory-max 10 -- true" "-- true" "--memory-max 64M" "--memory-max 16GB -- true" "--memory-max 64M -- ''"; do
  rc=0
  eval "\"$bin\" run-capped $args" 2>"$TMP/usage.err" || rc=$?
  [[ $rc -eq 64 ]] || fail "run-capped $args: exit $rc (expected 64): $(cat "$TMP/usage.err")"
done
pass "usage errors exit 64: memory-max 10, no limit, no command, 16GB, an empty program"
echo "PASS: run-capped on a real kernel ($version)"
