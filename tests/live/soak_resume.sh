#!/usr/bin/env bash
# Faults of a soak run:
#   1. SIGKILL of `tierscope soak` mid-run, then the same command again: the
#      run continues (status done, sampled time about the duration, not twice
#      it), one gap in soak.json, at most one fsync period (+ one sample) of
#      samples lost before the kill, and every line of every segment but a
#      torn last one parses.
#   2. The launched mock engine killed with SIGKILL mid-soak: engine_down is
#      recorded, the engine relaunched, engine_restarts counted, load goes on.
# Needs jq.
source "$(dirname "$0")/../e2e/lib.sh"
bin=$(realpath "$1")
subject=$(realpath "$2")
mock=$(realpath "$3")
skip() { echo "SKIP: $*"; exit 77; }
command -v jq >/dev/null || skip "jq not installed"
# records FILTER: jq FILTER over the whole records of a recording on stdin (a torn line skipped).
records() { jq -R -r "fromjson? | $1"; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; cleanup_e2e; }
trap cleanup EXIT

# ---- 1. SIGKILL and resume --------------------------------------------------
"$subject" --mode clean >/dev/null &
pids+=($!)
disown $!  # no "Killed" notice when the cleanup ends it
cat >"$TMP/observe.yaml" <<YAML
scenario: soak
duration: 30s
idle_tail: 0s
sample_interval: 200ms
checkpoint_interval: 5s
workload: { pids: [$!] }
leak: { min_duration: 10s }
record: { fsync_period: 1s }
YAML
"$bin" soak "$TMP/observe.yaml" --out "$TMP/run" >"$TMP/first.log" 2>&1 &
first=$!
sleep 12
kill -KILL $first
killed_at=$(date +%s.%N)
wait $first 2>/dev/null || true
[[ $(jq -r .status "$TMP/run/soak.json") == running ]] || fail "after SIGKILL: status $(jq -r .status "$TMP/run/soak.json")"
sleep 2
"$bin" soak "$TMP/observe.yaml" --out "$TMP/run" >"$TMP/second.log" 2>&1 || { cat "$TMP/second.log" >&2; fail "resume exited $?"; }
s=$TMP/run/soak.json
[[ $(jq -r .status "$s") == done ]] || fail "status $(jq -r .status "$s")"
[[ $(jq '.gaps | length' "$s") -eq 1 ]] || fail "gaps: $(jq -c .gaps "$s")"
elapsed=$(jq -r .elapsed_s "$s")
awk -v e="$elapsed" 'BEGIN { exit !(e >= 29.5 && e < 33) }' || fail "elapsed $elapsed s, expected about 30 (the run continued)"
from=$(jq -r '.gaps[0].from' "$s")
lost=$(awk -v k="$killed_at" -v f="$from" 'BEGIN { print k - f }')
awk -v l="$lost" 'BEGIN { exit !(l >= 0 && l <= 1.0 + 0.2 + 0.3) }' || fail "$lost s of samples lost before the kill (fsync period 1 s)"
grep -q 'resuming at' "$TMP/second.log" || fail "the second run did not say it resumed"
segments=0
for f in "$TMP"/run/samples-*.jsonl; do
  segments=$((segments + 1))
  total=$(wc -l <"$f")
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    jq -e . >/dev/null 2>&1 <<<"$line" || [[ $n -eq $total ]] || fail "$f:$n does not parse"
  done <"$f"
done
[[ $segments -ge 2 ]] || fail "$segments segment(s); the resumed run records in a new one"
[[ -n $(cat "$TMP"/run/samples-*.jsonl | records 'select(.type == "gap") | .from_wall') ]] || fail "no gap record"
echo "ok: resumed, elapsed $elapsed s, gap $(jq -r '.gaps[0].seconds' "$s") s, $lost s lost before the kill, $segments segments"

# ---- 2. the engine killed mid-soak ------------------------------------------
cat >"$TMP/engine.yaml" <<YAML
engine:
  kind: llamacpp
  launch:
    argv: [$mock, --port, "{port}", --itl-ms, "20", --tokens, "8"]
    ready: llamacpp
    restart: per_run
scenario: soak
duration: 30s
idle_tail: 5s
users: 2
prompt_tokens: 32
output_tokens: 8
sample_interval: 250ms
checkpoint_interval: 5s
YAML
"$bin" soak "$TMP/engine.yaml" --out "$TMP/eng" >"$TMP/eng.log" 2>&1 &
soak=$!
engine=""
for _ in $(seq 100); do
  engine=$(cat "$TMP"/eng/samples-*.jsonl 2>/dev/null | records 'select(.type == "engine_start") | .pid' | head -1 || true)
  [[ -n $engine ]] && break
  sleep 0.2
done
[[ -n $engine ]] || { cat "$TMP/eng.log" >&2; fail "no engine_start record with the engine's pid"; }
sleep 8
kill -KILL "$engine"
wait $soak || { cat "$TMP/eng.log" >&2; fail "soak exited $?"; }
s=$TMP/eng/soak.json
[[ $(jq -r .engine_restarts "$s") -ge 1 ]] || fail "engine_restarts $(jq -r .engine_restarts "$s")"
[[ -n $(cat "$TMP"/eng/samples-*.jsonl | records 'select(.type == "engine_down") | .outcome') ]] || fail "no engine_down record"
[[ $(cat "$TMP"/eng/samples-*.jsonl | records 'select(.type == "engine_start") | .pid' | wc -l) -ge 2 ]] ||
  fail "the engine was not relaunched"
after=$(jq -r .requests_ok "$s")
echo "ok: engine killed, $(jq -r .engine_restarts "$s") restart(s), $after requests ok"
