#!/usr/bin/env bash
# Negative tests: each check of lint_dashboards.sh, of the Jsonnet catalog and
# layout, and of check_generated.sh fails on a deliberately broken input (and
# names the problem), so no check is one that cannot fail.
# Usage: lint_selftest.sh SOURCE_DIR METRICS_JSON_TOOL
# $__rate_interval, $job, ... are Grafana variables, literal in single quotes.
# shellcheck disable=SC2016
set -euo pipefail
src=$1 metrics_tool=$2
lint=$src/tests/grafana/lint_dashboards.sh
metrics=$src/grafana/lib/metrics.json
rules=$src/grafana/rules
for tool in jq jsonnet jsonnetfmt promtool; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
base=$src/grafana/dashboards/overview.json

# The unbroken inputs pass.
"$lint" "$metrics" "$rules" "$base" "$rules"/*.yml >"$tmp/ok.out" || { echo "FAIL: clean inputs: $(cat "$tmp/ok.out")"; exit 1; }

# broken NAME JQ_FILTER EXPECTED: the dashboard with JQ_FILTER applied must fail
# with a finding matching EXPECTED (grep -E).
broken() {
  local name=$1 filter=$2 expected=$3
  jq "$filter" "$base" >"$tmp/$name.json"
  if "$lint" "$metrics" "$rules" "$tmp/$name.json" >"$tmp/$name.out"; then
    echo "FAIL: $name: the lint accepted it"; fails=1
  elif ! grep -qE -- "$expected" "$tmp/$name.out"; then
    echo "FAIL: $name: expected /$expected/, got: $(cat "$tmp/$name.out")"; fails=1
  else
    echo "ok: $name: $(head -1 "$tmp/$name.out")"
  fi
}
broken hardcoded_panel_uid '.panels[1].datasource.uid = "P1809F7CD0C75ACF3"' 'datasource is not'
broken hardcoded_target_uid '.panels[1].targets[0].datasource.uid = "abc"' 'target A datasource is not'
broken no_datasource_var '.templating.list |= map(select(.name != "datasource"))' 'no datasource variable'
broken no_job_var '.templating.list |= map(select(.name != "job"))' 'no query variable job'
broken no_instance_var '.templating.list |= map(select(.name != "instance"))' 'no query variable instance'
broken fixed_rate_range '(.panels[] | select(.title == "Daemon CPU") | .targets[0].expr) |= sub("\\$__rate_interval"; "5m")' 'rate without|is not \[\$__rate_interval\]'
broken other_range '(.panels[] | select(.title == "Daemon CPU") | .targets[0].expr) |= . + " + 0 * max_over_time(process_open_fds[1h])"' 'range \[1h\] is not'
broken no_instance_matcher '(.panels[] | select(.title == "Daemon CPU") | .targets[0].expr) |= sub(", instance=~\"\\$instance\""; "")' 'selector without job'
broken bare_metric '(.panels[] | select(.title == "Daemon CPU") | .targets[0].expr) = "rate(process_cpu_seconds_total[$__rate_interval])"' 'selector without job'
broken equality_matcher '(.panels[] | select(.title == "Daemon CPU") | .targets[0].expr) |= sub("job=~"; "job=")' 'matched with = or !='
broken no_unit '(.panels[] | select(.title == "Daemon CPU") | .fieldConfig.defaults) |= del(.unit)' 'no unit'
broken no_description '.panels[2].description = " "' 'no description'
broken overlap '.panels[2].gridPos.x = 2' 'overlap'
broken too_wide '.panels[0].gridPos.w = 25' 'outside the 24-column grid'
broken old_schema '.schemaVersion = 30' 'schemaVersion 30 < 39'
broken duplicate_id '.panels[3].id = .panels[2].id' 'panel id [0-9]+ used 2 times'
broken unknown_metric '.panels[1].targets[0].expr = "tierscope_memory_used_byte{job=~\"$job\"}"' 'unknown metric tierscope_memory_used_byte'
broken unknown_process_metric '.panels[1].targets[0].expr = "process_resident_memory{job=~\"$job\"}"' 'unknown metric process_resident_memory'
broken bucket_of_gauge '.panels[1].targets[0].expr = "tierscope_memory_used_bytes_bucket"' 'unknown metric tierscope_memory_used_bytes_bucket'
broken unknown_recording_rule '.panels[1].targets[0].expr = "instance:tierscope_nothing:rate5m"' 'recording rule instance:tierscope_nothing:rate5m is not recorded'
broken unknown_metric_in_variable '(.templating.list[] | select(.name == "job") | .query.query) = "label_values(tierscope_buildinfo, job)"' 'unknown metric tierscope_buildinfo'

# Rule files: an unknown name in an expression.
sed 's/tierscope_probe_success{/tierscope_probe_succeeded{/' "$rules/tierscope-alerts.yml" >"$tmp/alerts.yml"
if "$lint" "$metrics" "$rules" "$tmp/alerts.yml" >"$tmp/alerts.out" || ! grep -q 'unknown metric tierscope_probe_succeeded' "$tmp/alerts.out"; then
  echo "FAIL: rules_unknown_metric: $(cat "$tmp/alerts.out")"; fails=1
else echo "ok: rules_unknown_metric"; fi
# The known names pass (histogram suffixes, the meminfo prefix, recorded names).
jq '.panels[1].targets[0].expr = "tierscope_bench_ttft_seconds_bucket{job=~\"$job\", instance=~\"$instance\"} + tierscope_meminfo_mem_total_bytes{job=~\"$job\", instance=~\"$instance\"} + instance_device:tierscope_disk_read_bytes:rate5m"' "$base" >"$tmp/known.json"
"$lint" "$metrics" "$rules" "$tmp/known.json" >"$tmp/known.out" || { echo "FAIL: known names rejected: $(cat "$tmp/known.out")"; fails=1; }

# Jsonnet: a name not in the catalog, and a row wider than 24, stop the generation.
if jsonnet -J "$src/grafana/lib" -e "(import 'catalog.libsonnet').m('tierscope_renamed_total')" >/dev/null 2>"$tmp/jsonnet.err" \
   || ! grep -q 'unknown metric tierscope_renamed_total' "$tmp/jsonnet.err"; then
  echo "FAIL: jsonnet accepted an unknown metric: $(cat "$tmp/jsonnet.err")"; fails=1
else echo "ok: jsonnet_unknown_metric"; fi
if jsonnet -J "$src/grafana/lib" -e "(import 'layout.libsonnet').grid([[{w: 16, h: 4, title: 'a'}, {w: 9, h: 4, title: 'b'}]])" >/dev/null 2>"$tmp/layout.err" \
   || ! grep -q 'is 25 units wide' "$tmp/layout.err"; then
  echo "FAIL: layout accepted a row 25 wide: $(cat "$tmp/layout.err")"; fails=1
else echo "ok: layout_too_wide"; fi

# check_generated.sh: a hand edit of a generated file is found and named.
mkdir -p "$tmp/copy"
cp -r "$src/grafana" "$tmp/copy/"
jq '.title = "edited by hand"' "$tmp/copy/grafana/dashboards/gpu.json" >"$tmp/gpu.json"
cp "$tmp/gpu.json" "$tmp/copy/grafana/dashboards/gpu.json"
if bash "$src/tests/grafana/check_generated.sh" "$tmp/copy/grafana" >"$tmp/gen.out" 2>&1 || ! grep -q 'dashboards/gpu.json' "$tmp/gen.out"; then
  echo "FAIL: check_generated.sh missed a hand edit: $(cat "$tmp/gen.out")"; fails=1
else echo "ok: generated_hand_edit"; fi

# check_metrics_json.sh: a committed catalog that differs from the C++ one.
jq '.metrics["tierscope_disk_iops_peak"].help = "edited"' "$metrics" >"$tmp/metrics.json"
if bash "$src/tests/grafana/check_metrics_json.sh" "$metrics_tool" "$tmp/metrics.json" >"$tmp/mj.out" 2>&1 \
   || ! grep -q "out of date: $tmp/metrics.json" "$tmp/mj.out"; then
  echo "FAIL: check_metrics_json.sh missed an edit: $(cat "$tmp/mj.out")"; fails=1
else echo "ok: metrics_json_edited"; fi

# check_metrics_json.sh: a MetricDef left out of kCatalog is found.
mkdir -p "$tmp/src/core" "$tmp/src/workloads"
cp "$src/workloads/bench_metrics.h" "$tmp/src/workloads/"
sed 's|^// ---- memory tiers|inline constexpr MetricDef forgotten{"tierscope_forgotten_bytes", "x", kGauge};\n&|' \
  "$src/core/metric_catalog.h" >"$tmp/src/core/metric_catalog.h"
if bash "$src/tests/grafana/check_metrics_json.sh" "$metrics_tool" "$metrics" "$tmp/src" >"$tmp/mk.out" 2>&1 \
   || ! grep -q 'not in kCatalog/kBenchCatalog (so not in metrics.json): tierscope_forgotten_bytes' "$tmp/mk.out"; then
  echo "FAIL: check_metrics_json.sh missed a MetricDef outside kCatalog: $(cat "$tmp/mk.out")"; fails=1
else echo "ok: metricdef_not_listed"; fi

# rules_test.sh: an alert without its tests is found.
mkdir -p "$tmp/copy/tests/grafana"
sed '/- name: TierscopeGpuLost/,$d' "$src/tests/grafana/alerts_test.yml" >"$tmp/copy/tests/grafana/alerts_test.yml"
if bash "$src/tests/grafana/rules_test.sh" "$tmp/copy" >"$tmp/rt.out" 2>&1 \
   || ! grep -q 'TierscopeGpuLost: alerts_test.yml shows it firing 0 and not firing 0' "$tmp/rt.out"; then
  echo "FAIL: rules_test.sh missed an untested alert: $(tail -3 "$tmp/rt.out")"; fails=1
else echo "ok: untested_alert"; fi

# jsonnetfmt_test.sh: an unformatted source is found.
printf '{a:1,\n  b:    2}\n' >"$tmp/copy/grafana/lib/unformatted.libsonnet"
if bash "$src/tests/grafana/jsonnetfmt_test.sh" "$tmp/copy/grafana" >"$tmp/fmt.out" 2>&1 \
   || ! grep -q 'not formatted: .*unformatted.libsonnet' "$tmp/fmt.out"; then
  echo "FAIL: jsonnetfmt_test.sh missed an unformatted file: $(cat "$tmp/fmt.out")"; fails=1
else echo "ok: unformatted_source"; fi

exit "$fails"
