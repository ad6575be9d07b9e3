#!/usr/bin/env bash
# SIGHUP reload through the real binary: a broken file is rejected with one log
# line and the running config stays; a valid one applies without dropping the
# listener or losing counters; SIGTERM stops cleanly.
# Usage: reload.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
cfg=$TMP/config.yaml
fixture_config phison-host "$cfg"
start_daemon "$bin" "$cfg"
wait_samples 3
scrape >"$TMP/a.prom"
[[ $(value "$TMP/a.prom" tierscope_sample_interval_seconds) == 0.1 ]] || fail "initial interval"
grep -q '^tierscope_pressure_stalled_seconds_total{' "$TMP/a.prom" || fail "pressure series missing at start"
samples_a=$(value "$TMP/a.prom" tierscope_samples_total)

# 1. A broken config: rejected, old one kept, same listener, counters go on.
fixture_config phison-host "$cfg" $'probes:\n  pressure: flase'
kill -HUP "$DAEMON_PID"
wait_log 'reload rejected, keeping the running config: .*probes.pressure: expected true or false, got "flase"'
[[ $(grep -c 'reload rejected' "$LOG") -eq 1 ]] || fail "expected exactly one rejection line"
wait_samples $((samples_a + 3))
scrape >"$TMP/b.prom"
[[ $(value "$TMP/b.prom" tierscope_config_last_reload_successful) == 0 ]] || fail "last reload should be unsuccessful"
[[ $(value "$TMP/b.prom" 'tierscope_config_reloads_total{result="failure"}') == 1 ]] || fail "failure count"
[[ $(value "$TMP/b.prom" tierscope_sample_interval_seconds) == 0.1 ]] || fail "interval changed by a rejected reload"
grep -q '^tierscope_pressure_stalled_seconds_total{' "$TMP/b.prom" || fail "pressure vanished after a rejected reload"
samples_b=$(value "$TMP/b.prom" tierscope_samples_total)

# 2. A valid config: applied at the next tick; counters continue.
fixture_config phison-host "$cfg" $'probes:\n  pressure: false'
sed -i 's/^sample_interval: 100ms/sample_interval: 200ms/' "$cfg"
kill -HUP "$DAEMON_PID"
wait_log "reloaded $cfg: sampling 11 probes every 200ms"
for _ in $(seq 50); do
  scrape >"$TMP/c.prom"
  [[ $(value "$TMP/c.prom" tierscope_sample_interval_seconds) == 0.2 ]] && break
  sleep 0.1
done
[[ $(value "$TMP/c.prom" tierscope_sample_interval_seconds) == 0.2 ]] || fail "new interval not applied"
grep -q '^tierscope_pressure_stalled_seconds_total{' "$TMP/c.prom" && fail "disabled probe still exported"
grep -q 'tierscope_probe_success{probe="pressure"}' "$TMP/c.prom" && fail "disabled probe still reports success"
[[ $(value "$TMP/c.prom" tierscope_config_last_reload_successful) == 1 ]] || fail "last reload should be successful"
[[ $(value "$TMP/c.prom" 'tierscope_config_reloads_total{result="success"}') == 1 ]] || fail "success count"
samples_c=$(value "$TMP/c.prom" tierscope_samples_total)
(( samples_c > samples_b && samples_b > samples_a )) || fail "samples_total went $samples_a -> $samples_b -> $samples_c"

stop_daemon
echo "PASS: reload rejected then applied; samples_total $samples_a -> $samples_b -> $samples_c on one listener"
