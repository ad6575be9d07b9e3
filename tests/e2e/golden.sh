#!/usr/bin/env bash
# Golden end to end: the real binary on a fixture host, scraped over HTTP on
# 127.0.0.1, linted with promtool, normalized (series whose values vary from
# run to run are reduced to their HELP/TYPE lines) and diffed against
# tests/e2e/golden/NAME.prom. UPDATE_GOLDEN=1 rewrites the golden file.
# Usage: golden.sh TIERSCOPE_BINARY NAME [HOST [EXTRA_YAML]]
#   HOST: the fixture host under tests/fixtures (default NAME); EXTRA_YAML:
#   config lines appended to the fixture config (e.g. the fake NVML library).
source "$(dirname "$0")/lib.sh"
bin=$1 name=$2 host=${3:-$2} extra=${4:-}
golden=$TIERSCOPE_SOURCE_DIR/tests/e2e/golden/$name.prom
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus)"

fixture_config "$host" "$TMP/config.yaml" "$extra"
start_daemon "$bin" "$TMP/config.yaml"
wait_samples 3
scrape >"$TMP/scrape.prom"

lint=$(promtool check metrics <"$TMP/scrape.prom" 2>&1) || fail "promtool check metrics failed: $lint"
[[ -z "$lint" ]] || fail "promtool check metrics reported: $lint"

# Values that vary by run: timing, counters of the daemon itself, build identity.
varying='^(process_[a-z_]+|tierscope_probe_duration_seconds|tierscope_samples_total|tierscope_sample_overruns_total|tierscope_last_sample_timestamp_seconds|tierscope_build_info)[{ ]'
grep -v '^# [A-Z]* exposer_' "$TMP/scrape.prom" | grep -v '^exposer_' | grep -Ev "$varying" >"$TMP/normalized.prom"
# The varying series must still be there.
for m in process_resident_memory_bytes process_cpu_seconds_total process_open_fds process_start_time_seconds \
         tierscope_samples_total tierscope_build_info tierscope_probe_duration_seconds; do
  grep -q "^$m[{ ]" "$TMP/scrape.prom" || fail "missing series $m"
done

if [[ "${UPDATE_GOLDEN:-}" == 1 ]]; then
  mkdir -p "$(dirname "$golden")"
  cp "$TMP/normalized.prom" "$golden"
  echo "updated $golden"
else
  diff -u "$golden" "$TMP/normalized.prom" || fail "scrape differs from $golden (UPDATE_GOLDEN=1 to accept)"
fi
stop_daemon
echo "PASS: $name: $(grep -vc '^#' "$TMP/normalized.prom") stable series match $golden; promtool clean"
