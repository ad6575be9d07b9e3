#!/usr/bin/env bash
# The daemon's record: section at start and on SIGHUP. A record.dir that
# cannot be created at start does not stop the daemon: one error line, /metrics
# answers, tierscope_recorder_dropped_samples_total counts, and recording
# starts by itself once the directory can be made. SIGHUP without the section
# stops recording (the recorder metrics go away); SIGHUP with it starts again
# in the same directory, in a new segment after a gap.
# Usage: recorder_reload.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
cfg=$TMP/config.yaml
blocker=$TMP/blocker
rec=$blocker/rec
: >"$blocker"  # a regular file where a directory should be: ENOTDIR
fixture_config phison-host "$cfg" "record: {dir: $rec, fsync_period: 200ms}"

start_daemon "$bin" "$cfg"
wait_log "recorder: cannot record: $rec: Not a directory"
wait_samples 8
scrape >"$TMP/a.prom"
dropped=$(value "$TMP/a.prom" tierscope_recorder_dropped_samples_total) || fail "no dropped counter while the directory cannot be made"
awk -v d="$dropped" 'BEGIN { exit !(d >= 3) }' || fail "dropped $dropped, expected every sample counted"
[[ $(grep -c 'recorder: cannot record' "$LOG") -eq 1 ]] || fail "more than one line for the unwritable directory"

rm "$blocker"
wait_log "recording again every sample to $rec"
sleep 0.5
scrape >"$TMP/b.prom"
written=$(value "$TMP/b.prom" tierscope_recorder_samples_total) || fail "no samples counter"
awk -v w="$written" 'BEGIN { exit !(w >= 1) }' || fail "nothing recorded after the directory could be made"

# SIGHUP without record: stops; the metrics go away.
fixture_config phison-host "$cfg"
kill -HUP "$DAEMON_PID"
wait_log "reloaded $cfg"
sleep 0.3
scrape >"$TMP/c.prom"
! grep -q '^tierscope_recorder_' "$TMP/c.prom" || fail "recorder metrics still shown after recording was switched off"
segments=$(ls "$rec" | grep -c '^samples-')

# SIGHUP with it again: a new segment after a gap.
fixture_config phison-host "$cfg" "record: {dir: $rec, fsync_period: 200ms}"
kill -HUP "$DAEMON_PID"
wait_log "recording every sample to $rec ($rec/samples-00000$((segments + 1)).jsonl)"
sleep 0.5
stop_daemon
"$bin" recording "$rec" >"$TMP/all.jsonl" 2>"$TMP/all.err" || { cat "$TMP/all.err" >&2; fail "recording does not parse"; }
grep -q ' 1 gaps)' "$TMP/all.err" || fail "expected one gap: $(cat "$TMP/all.err")"
echo "PASS: recorder reload ($dropped dropped while the directory could not be made; $(cat "$TMP/all.err"))"
