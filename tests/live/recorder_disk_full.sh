#!/usr/bin/env bash
# The daemon's recording on a full disk: record.dir is a 2 MiB tmpfs. Filled
# up (dd), the daemon logs one line, counts the dropped samples in
# tierscope_recorder_dropped_samples_total and goes on sampling and serving
# /metrics; once space is freed, recording resumes by itself (one line, new
# samples in the recording, a gap record with the count dropped).
# Root only (mount); skipped otherwise.
# Usage: recorder_disk_full.sh TIERSCOPE_BINARY
source "$(dirname "$0")/../e2e/lib.sh"
bin=$1
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root to mount a tmpfs" >&2; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed" >&2; exit 77; }
mnt=$TMP/rec
mkdir -p "$mnt"
mount -t tmpfs -o size=2m tierscope-test "$mnt" 2>"$TMP/mount.err" ||
  { echo "SKIP: cannot mount a tmpfs: $(cat "$TMP/mount.err")" >&2; exit 77; }
cleanup_mount() {
  cleanup_e2e_kill() { [[ -n "$DAEMON_PID" ]] && kill -KILL "$DAEMON_PID" 2>/dev/null; return 0; }
  cleanup_e2e_kill
  umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  cleanup_e2e
}
trap cleanup_mount EXIT

cfg=$TMP/config.yaml
fixture_config phison-host "$cfg" "record: {dir: $mnt, fsync_period: 200ms}"
start_daemon "$bin" "$cfg"
wait_log "recording every sample to $mnt"
wait_samples 10

# Fill it up.
dd if=/dev/zero of="$mnt/fill" bs=64k 2>/dev/null || true
df -k "$mnt" | tail -1
wait_log 'recorder: cannot write'
sleep 2  # ten flush periods while full
scrape >"$TMP/full.prom" || fail "/metrics did not answer while the disk was full"
dropped=$(value "$TMP/full.prom" tierscope_recorder_dropped_samples_total) || fail "no dropped counter"
awk -v d="$dropped" 'BEGIN { exit !(d >= 10) }' || fail "dropped counter $dropped after 2 s full at 10 Hz"
errors=$(grep -c 'recorder: cannot write' "$LOG")
[[ $errors -eq 1 ]] || fail "expected one log line for the full disk, got $errors"
samples_full=$(value "$TMP/full.prom" tierscope_samples_total)
wait_samples $((${samples_full%.*} + 5))  # sampling goes on

# Free it: recording resumes.
free_wall=$(date +%s.%N)
rm -f "$mnt/fill"
wait_log 'recorder: recording again'
sleep 0.6
stop_daemon
"$bin" recording "$mnt" >"$TMP/all.jsonl" 2>"$TMP/all.err" || { cat "$TMP/all.err" >&2; fail "the recording does not parse"; }
cat "$TMP/all.err"
after=$(jq -s --argjson f "$free_wall" 'map(select(.type == "sample" and .wall > $f)) | length' "$TMP/all.jsonl")
[[ $after -ge 3 ]] || fail "only $after samples recorded after space returned"
gap=$(jq -c 'select(.type == "gap" and .reason == "write error")' "$TMP/all.jsonl")
[[ -n $gap ]] || fail "no gap record for the write error"
echo "PASS: disk full (dropped $dropped while full, $after samples after, gap $gap)"
