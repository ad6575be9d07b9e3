#!/usr/bin/env bash
# The recording survives a SIGKILL: `tierscope daemon` records at 10 Hz with
# fsync_period 1s, is killed with SIGKILL, and is started again on the same
# directory. Then every segment parses with the reader (a torn last line is
# allowed, a corrupt one is not), at most one fsync period (+ one sample) of
# samples is lost before the kill, the restart went on in a new segment, and a
# gap record says from when to when nothing was recorded.
# Usage: recorder_crash.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
command -v jq >/dev/null || { echo "SKIP: jq is not installed" >&2; exit 77; }
cfg=$TMP/config.yaml
rec=$TMP/rec
fixture_config phison-host "$cfg" "record: {dir: $rec, fsync_period: 1s}"

start_daemon "$bin" "$cfg"
wait_log "recording every sample to $rec"
wait_samples 35
kill_wall=$(date +%s.%N)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""

"$bin" recording "$rec" >"$TMP/first.jsonl" 2>"$TMP/first.err" || { cat "$TMP/first.err" >&2; fail "reading after the kill"; }
last_wall=$(jq -s 'map(select(.type == "sample")) | last | .wall' "$TMP/first.jsonl")
[[ $last_wall != null ]] || fail "no sample recorded before the kill"
lost=$(awk -v k="$kill_wall" -v l="$last_wall" 'BEGIN { printf "%.3f", k - l }')
echo "kill at $kill_wall, last recorded sample at $last_wall: ${lost}s lost (fsync_period 1s, 10 Hz)"
# One fsync period plus one sample interval, plus 0.2 s for the flush itself
# on a loaded CI machine.
awk -v x="$lost" 'BEGIN { exit !(x >= 0 && x <= 1.3) }' || fail "${lost}s of samples lost, more than one fsync period"

# The restart: same directory, a new segment after a gap.
start_daemon "$bin" "$cfg"
wait_log "recording every sample to $rec"
wait_samples 5
sleep 1.2  # one fsync period
stop_daemon

"$bin" recording "$rec" >"$TMP/all.jsonl" 2>"$TMP/all.err" || { cat "$TMP/all.err" >&2; fail "a segment did not parse"; }
cat "$TMP/all.err"
grep -q ' 0 corrupt$' "$TMP/all.err" || fail "corrupt lines: $(cat "$TMP/all.err")"
segments=$(ls "$rec" | grep -c '^samples-[0-9]*\.jsonl$')
[[ $segments -eq 2 ]] || fail "expected 2 segments, found $segments: $(ls "$rec")"
gap=$(jq -c 'select(.type == "gap")' "$TMP/all.jsonl")
[[ $(printf '%s\n' "$gap" | grep -c .) -eq 1 ]] || fail "expected one gap record, got: $gap"
ok=$(jq -s --argjson l "$last_wall" --argjson k "$kill_wall" \
  'map(select(.type == "gap")) | .[0] | .from_wall == $l and .to_wall >= $k and .reason == "restart"' "$TMP/all.jsonl")
[[ $ok == true ]] || fail "gap $gap should run from the last sample ($last_wall) to after the kill ($kill_wall)"
after=$(jq -s --argjson k "$kill_wall" 'map(select(.type == "sample" and .wall > $k)) | length' "$TMP/all.jsonl")
[[ $after -ge 5 ]] || fail "only $after samples after the restart"
# CSV of one series: a header row, then one row per sample.
"$bin" recording "$rec" --format csv --series '^process_open_fds$' >"$TMP/fds.csv" 2>/dev/null || fail "csv"
[[ $(head -1 "$TMP/fds.csv") == 'wall,mono,"process_open_fds"' ]] || fail "csv header: $(head -1 "$TMP/fds.csv")"
samples=$(jq -s 'map(select(.type == "sample")) | length' "$TMP/all.jsonl")
rows=$(grep -vc '^wall,' "$TMP/fds.csv")
[[ $rows -eq $samples ]] || fail "$rows csv rows for $samples samples"
# Each line on its own, as jq reads a torn file: nothing but whole records.
jq -cR 'fromjson? // empty' "$rec"/samples-*.jsonl >/dev/null || fail "jq line by line"
echo "PASS: recorder crash (lost ${lost}s, $segments segments, gap $gap)"
