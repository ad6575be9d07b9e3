#!/usr/bin/env bash
# The metric contract of the Grafana dashboards and Prometheus rules, against
# a real Prometheus (the Debian `prometheus` server) scraping the real binaries:
#
#   job tierscope        six daemons on fixture hosts: phison-host (NVMe
#                        offload, swap, PSI; NVMe Identify and SMART/health
#                        through the fake libnvme); a Strix Halo host and a discrete
#                        Radeon host (phison-host's procfs with the sysfs of
#                        tests/fixtures/amd-strix-halo, amd-discrete); an H100
#                        through the fake libnvidia-ml with the fdinfo-host
#                        workload (pids 4242, 4243); fdinfo-host's llama.cpp
#                        unit as a cgroup v2 workload (tests/fixtures/
#                        cgroup-workload); phison-host with that
#                        H100 fallen off the bus (GPU_IS_LOST);
#                        the phison-host daemon also records (record:), so
#                        tierscope_recorder_* are there;
#   job tierscope-bench  `tierscope bench` live metrics, a concurrency sweep
#                        against the mock engine that runs for the whole test;
#   job tierscope-soak   `tierscope soak` live metrics: a soak that launches
#                        the mock engine leaking 1 MiB per request, under load
#                        for the whole test (verdicts, slopes, time to OOM,
#                        the recorder of its run directory).
#
# Prometheus (temporary config and TSDB, 127.0.0.1 on a free port) scrapes
# every 1 s and evaluates the rules (GRAFANA_DIR/rules/*.yml, *.yaml, each
# checked by promtool first; group intervals set to the test's 1 s) every 1 s.
# Once every target has 5 scrapes, the bench has finished requests and every
# rule group has been evaluated at least twice, check_contract.sh evaluates
# every dashboard query and rule at that one instant (the bench still runs);
# see it for what is checked and how a failure is diagnosed.
#
# The phison-host daemon runs with LD_LIBRARY_PATH at the fake libnvme
# (tests/fakes/fake_libnvme.cpp, a libnvme.so.1) and a devfs where nvme0 and
# nvme1 are /dev/null and /dev/zero (the daemon sends admin commands to
# character devices only; the fake tells the controllers apart by device
# number): the NVMe Identify and SMART/health series come from the fake's
# documented values, a few of which are checked after the wait.
#
# Metrics no fixture can produce would be listed in fixture_gaps.txt (empty
# now): a query that fails only for want of them is reported UNVERIFIED, not
# failed. The list is checked: each name must be defined in the source and
# absent from what the hosts produce.
#
# The checker first runs on a dashboard and rule file of this script (a
# renamed metric, a label the metric lacks, a label value that matches
# nothing, a rule that fails to evaluate, a panel on a metric of its own gaps
# list, among ones that pass) and must report exactly those, with their diagnoses.
# Then the real dashboards; when GRAFANA_DIR/dashboards does not exist, exit
# 77 (skip) after the self-test.
#
# Usage: grafana_contract.sh TIERSCOPE_BINARY FAKE_NVML_LIBRARY FAKE_LIBNVME_LIBRARY MOCK_ENGINE_BINARY GRAFANA_DIR
#   (FAKE_LIBNVME_LIBRARY: the fake's libnvme.so.1, alone in its directory)
# Environment: TIERSCOPE_SOURCE_DIR (the fixtures). Exit: 0 pass, 1 fail, 77 skip.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 5 ]] || fail "usage: $0 TIERSCOPE_BINARY FAKE_NVML_LIBRARY FAKE_LIBNVME_LIBRARY MOCK_ENGINE_BINARY GRAFANA_DIR"
bin=$1 nvml=$2 libnvme=$3 mock=$4 grafana=$5
[[ ${libnvme##*/} == libnvme.so.1 && -f $libnvme ]] || fail "$libnvme: not a file named libnvme.so.1"
started=$SECONDS

if ! command -v prometheus >/dev/null; then
  echo "SKIP: prometheus (the server, Debian package prometheus) is not installed"
  exit 77
fi
for tool in promtool jq curl; do command -v "$tool" >/dev/null || fail "$tool not installed"; done

PIDS=()
cleanup_contract() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  cleanup_e2e
}
trap cleanup_contract EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# launch NAME SED_REGEX COMMAND...: starts COMMAND in the background (stdout and
# stderr to $TMP/NAME.log), waits <= 10 s for a line matching SED_REGEX and
# sets PORT to the regex's first group.
launch() {
  local name=$1 re=$2 pid; shift 2
  : >"$TMP/$name.log"
  "$@" >>"$TMP/$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    PORT=$(sed -n "s|$re|\1|p" "$TMP/$name.log" | head -1)
    [[ -n $PORT ]] && return 0
    kill -0 "$pid" 2>/dev/null || { LOG=$TMP/$name.log; fail "$name exited before listening"; }
    sleep 0.1
  done
  LOG=$TMP/$name.log
  fail "$name did not log its address within 10 s"
}
daemon_re='.*listening on http://127\.0\.0\.1:\([0-9]*\)/metrics.*'

# --- the daemons on the fixture hosts (tests/e2e/lib.sh's fixture config: 100 ms sampling).
targets=()
# phison-host with its controllers' character devices (/dev/null: nvme0, the
# Phison; /dev/zero: nvme1, the Samsung) beside the fixture's devfs, and the
# fake libnvme answering the admin commands.
cp -a "$TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/dev" "$TMP/phison-dev"
ln -s /dev/null "$TMP/phison-dev/nvme0"
ln -s /dev/zero "$TMP/phison-dev/nvme1"
fixture_config phison-host "$TMP/phison.yaml" "nvme: {health_interval: 1s}
record: {dir: $TMP/phison-recording}"
sed -i "s|devfs: [^}]*|devfs: $TMP/phison-dev|" "$TMP/phison.yaml"
grep -qF "devfs: $TMP/phison-dev}" "$TMP/phison.yaml" || fail "$TMP/phison.yaml: devfs not replaced"
LD_LIBRARY_PATH=$(dirname "$libnvme") \
  launch daemon-phison "$daemon_re" "$bin" daemon --config "$TMP/phison.yaml"
phison_target=127.0.0.1:$PORT
targets+=("$phison_target")
fixture_config phison-host+amd-strix-halo "$TMP/strix.yaml"
launch daemon-strix-halo "$daemon_re" "$bin" daemon --config "$TMP/strix.yaml"
targets+=("127.0.0.1:$PORT")
fixture_config phison-host+amd-discrete "$TMP/discrete.yaml"
launch daemon-amd-discrete "$daemon_re" "$bin" daemon --config "$TMP/discrete.yaml"
targets+=("127.0.0.1:$PORT")
# fdinfo-host has processes, not meminfo and the rest: those probes off, as in the golden test.
fixture_config fdinfo-host "$TMP/nvml.yaml" \
  "probes: {meminfo: false, vmstat: false, pressure: false, swaps: false, diskstats: false, nvme: false}
gpu: {nvml_library: $nvml}
workload: {pids: [4242, 4243], process_names: [ollama]}"
FAKE_NVML_SCENARIO=$TIERSCOPE_SOURCE_DIR/tests/fixtures/nvml/h100.json \
  launch daemon-nvml "$daemon_re" "$bin" daemon --config "$TMP/nvml.yaml"
targets+=("127.0.0.1:$PORT")
# The llama.cpp unit of fdinfo-host as a cgroup v2 workload at its memory
# limit (tests/fixtures/cgroup-workload): the cgroup-source series of
# tierscope_workload_* (tiers, current, peak, limits, memory events, OOM
# kills, io per device), vram and gtt from its processes' DRM fdinfo.
fixture_config fdinfo-host+cgroup-workload "$TMP/cgroup-workload.yaml" \
  "probes: {meminfo: false, vmstat: false, pressure: false, swaps: false, diskstats: false, nvme: false}
workload: {cgroup: [/system.slice/llama.service]}"
launch daemon-cgroup-workload "$daemon_re" "$bin" daemon --config "$TMP/cgroup-workload.yaml"
targets+=("127.0.0.1:$PORT")
# phison-host with an H100 that has fallen off the bus (as in tests/e2e/gpu_lost.sh):
# tierscope_gpu_probe_errors_total{error="GPU_IS_LOST"}, gpu_nvml failing.
sed 's/"name": "NVIDIA H100 80GB HBM3",/"error": "GPU_IS_LOST", "name": "x",/' \
  "$TIERSCOPE_SOURCE_DIR/tests/fixtures/nvml/h100.json" >"$TMP/gpu-lost.json"
grep -q GPU_IS_LOST "$TMP/gpu-lost.json" || fail "tests/fixtures/nvml/h100.json: no device name to replace"
fixture_config phison-host "$TMP/gpu-lost.yaml" "gpu: {nvml_library: $nvml}"
FAKE_NVML_SCENARIO=$TMP/gpu-lost.json \
  launch daemon-gpu-lost "$daemon_re" "$bin" daemon --config "$TMP/gpu-lost.yaml"
targets+=("127.0.0.1:$PORT")

# --- the mock engine and a bench that outlasts the test (2 users, ~0.4 s per request).
launch mock_engine '^listening on 127\.0\.0\.1:\([0-9]*\)$' "$mock" --port 0 --ttft-ms 50 --itl-ms 20 --flavor vllm
mock_port=$PORT
cat >"$TMP/scenario.yaml" <<YAML
engine: { kind: vllm, url: http://127.0.0.1:$mock_port, model: mock-model, api: completions }
scenario: concurrency_sweep
users: [2]
prompt_tokens: 32
output_tokens: 16
warmup: 1
repetitions: 1000
stop_on_failure: false
request_timeout: 30s
run_deadline: 300s
listen: 127.0.0.1:0
YAML
launch bench '.*live metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*' "$bin" bench "$TMP/scenario.yaml" --out "$TMP/bench-out"
bench_target=127.0.0.1:$PORT
bench_pid=${PIDS[-1]}

# --- a soak that outlasts the test: it launches the mock engine leaking 1 MiB
# per request, so the workload's anon+swap is LEAK with a time to OOM within
# seconds (leak.min_duration 2s, 100 ms sampling, a checkpoint every second).
cat >"$TMP/soak.yaml" <<YAML
engine:
  kind: llamacpp
  launch:
    argv: [$mock, --port, "{port}", --leak-bytes-per-request, "1048576", --itl-ms, "10", --tokens, "4"]
    ready: llamacpp
    restart: per_run
scenario: soak
duration: 300s
idle_tail: 0s
users: 2
prompt_tokens: 16
output_tokens: 4
sample_interval: 100ms
checkpoint_interval: 1s
leak: { min_duration: 2s }
listen: 127.0.0.1:0
YAML
launch soak '.*live metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*' "$bin" soak "$TMP/soak.yaml" --out "$TMP/soak-out"
soak_target=127.0.0.1:$PORT
soak_pid=${PIDS[-1]}

# --- the rule files: promtool first (a file Prometheus would refuse is a
# failure of its own, and stays out so that the rest is still checked).
pre_failures=0
mkdir -p "$TMP/rules/grafana" "$TMP/rules/self"
shopt -s nullglob
# to_test_interval FILE: the rule file with its groups' `interval:` lines
# dropped (block-style YAML), so that every group runs at the global 1 s.
to_test_interval() {
  awk '/^[[:space:]]*-[[:space:]]+name:/ { match($0, /^[[:space:]]*-[[:space:]]+/); key = RLENGTH }
       key && /^[[:space:]]*interval:/ && index($0, "interval:") - 1 == key { next }
       { print }' "$1"
}
for f in "$grafana"/rules/*.yml "$grafana"/rules/*.yaml; do
  if out=$(promtool check rules "$f" 2>&1); then
    to_test_interval "$f" >"$TMP/rules/grafana/${f##*/}"
  else
    echo "FAIL rule file ${f##*/}: promtool check rules: $out"
    pre_failures=$((pre_failures + 1))
  fi
done

# --- the self-test's dashboard and rules: each panel and rule that should
# fail has one fault; the others pass.
mkdir -p "$TMP/self/dashboards"
cat >"$TMP/self/dashboards/self.json" <<'JSON'
{
  "title": "Contract self-test",
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus"},
    {"name": "job", "type": "query", "query": "label_values(tierscope_build_info, job)"},
    {"name": "instance", "type": "query", "query": {"query": "label_values(tierscope_build_info{job=~\"$job\"}, instance)", "refId": "v"}},
    {"name": "tier", "type": "custom", "query": "ram,swap"},
    {"name": "card", "type": "query", "query": "label_values(tierscope_gpu_info{job=~\"$job\"}, card)"}
  ]},
  "panels": [
    {"type": "timeseries", "title": "Capacity by tier", "datasource": "${datasource}", "targets": [
      {"refId": "A", "expr": "sum by (instance, tier) (tierscope_memory_capacity_bytes{job=~\"$job\", instance=~\"${instance:regex}\", tier=~\"[[tier]]\"})", "legendFormat": "{{instance}} {{ tier }} {{card}}"},
      {"refId": "B", "expr": "instance:tierscope_memory_used_bytes:sum{instance=~\"$instance\"}"}]},
    {"type": "row", "title": "Collapsed", "collapsed": true, "panels": [
      {"type": "timeseries", "title": "Renamed metric", "targets": [
        {"refId": "A", "expr": "rate(tierscope_disk_read_byte_total{job=~\"$job\"}[$__rate_interval])"},
        {"refId": "B", "expr": "rate(tierscope_disk_read_bytes_total{job=~\"$job\"}[$__rate_interval])"}]},
      {"type": "stat", "title": "Wrong label", "targets": [
        {"refId": "A", "expr": "max by (gpu) (tierscope_gpu_power_watts{job=~\"$job\", card=~\"$instance\"})"}]}]},
    {"type": "timeseries", "title": "Bench TTFT p99", "targets": [
      {"refId": "A", "expr": "histogram_quantile(0.99, sum by (le) (rate(tierscope_bench_ttft_seconds_bucket{job=~\"$job\"}[$__rate_interval])))"}]},
    {"type": "stat", "title": "Wrong label value", "targets": [
      {"refId": "A", "expr": "sum(tierscope_memory_used_bytes{tier=\"dram\"})"}]},
    {"type": "stat", "title": "NVMe wear", "targets": [
      {"refId": "A", "expr": "tierscope_nvme_percentage_used_ratio * on (instance, controller) group_left (model) tierscope_nvme_info{instance=~\"$instance\"}"}]},
    {"type": "stat", "title": "Unproducible metric", "targets": [
      {"refId": "A", "expr": "tierscope_selftest_unproducible_ratio * on (instance, controller) group_left (model) tierscope_nvme_info{instance=~\"$instance\"}"}]}
  ]
}
JSON
cat >"$TMP/self.yml" <<'YAML'
groups:
  - name: selftest-records
    interval: 1m
    rules:
      - record: instance:tierscope_memory_used_bytes:sum
        expr: sum by (instance) (tierscope_memory_used_bytes{job="tierscope"})
      - record: instance:tierscope_swapfile_used_bytes:sum
        expr: sum by (instance) (tierscope_memory_used_bytes{job="tierscope", tier="swapfile"})
  - name: selftest-alerts
    rules:
      - alert: TierscopeSelfTestRenamed
        expr: tierscope_probe_succes{job="tierscope"} == 0
        for: 1m
      - alert: TierscopeSelfTestGood
        expr: tierscope_probe_success{job="tierscope"} == 0
      - alert: TierscopeSelfTestManyToMany
        expr: tierscope_memory_used_bytes / on () tierscope_memory_capacity_bytes > 2
YAML
# The self-test's own gaps list (the real one may be empty).
echo "tierscope_selftest_unproducible_ratio the self-test's stand-in for a metric no fixture host produces" >"$TMP/self-gaps.txt"
promtool check rules "$TMP/self.yml" >/dev/null || fail "the self-test's rule file does not pass promtool"
to_test_interval "$TMP/self.yml" >"$TMP/rules/self/self.yml"

# --- Prometheus.
cat >"$TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
rule_files: ["$TMP/rules/grafana/*.yml", "$TMP/rules/grafana/*.yaml", "$TMP/rules/self/*.yml"]
scrape_configs:
  - job_name: tierscope
    static_configs: [{targets: [$(IFS=,; echo "${targets[*]}")]}]
  - job_name: tierscope-bench
    static_configs: [{targets: [$bench_target]}]
  - job_name: tierscope-soak
    static_configs: [{targets: [$soak_target]}]
YAML
promtool check config "$TMP/prometheus.yml" >"$TMP/promtool-config.log" 2>&1 || { LOG=$TMP/promtool-config.log; fail "promtool check config"; }
launch prometheus '.*msg="Listening on" address=127\.0\.0\.1:\([0-9]*\).*' \
  prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
  --web.listen-address=127.0.0.1:0 --log.level=info
prom=http://127.0.0.1:$PORT
LOG=$TMP/prometheus.log
for _ in $(seq 100); do curl -sf --noproxy '*' "$prom/-/ready" >/dev/null && break; sleep 0.1; done
curl -sf --noproxy '*' "$prom/-/ready" >/dev/null || fail "Prometheus not ready within 10 s"
ready_at=$SECONDS

scalar() {
  curl -sS --noproxy '*' --max-time 5 "$prom/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // "0"'
}
# --- wait (<= 30 s) for 5 scrapes of every target, finished bench requests and
# every rule group evaluated twice (first at an offset < 1 s, then every 1 s).
for _ in $(seq 60); do
  up=$(scalar 'count(up == 1)')
  scrapes=$(scalar 'min(count_over_time(up[1m]))')
  ttft=$(scalar 'sum(tierscope_bench_ttft_seconds_count)')
  oom=$(scalar 'count(tierscope_soak_time_to_oom_seconds)')
  unevaluated=$(curl -sS --noproxy '*' "$prom/api/v1/rules" | jq '[.data.groups[] | select(.lastEvaluation | startswith("0001-"))] | length')
  if [[ $up == $((${#targets[@]} + 2)) && $scrapes -ge 5 && $ttft != 0 && $oom != 0 && $unevaluated == 0 ]] && (( SECONDS - ready_at >= 3 )); then break; fi
  sleep 0.5
done
[[ $up == $((${#targets[@]} + 2)) && $scrapes -ge 5 && $ttft != 0 && $oom != 0 && $unevaluated == 0 ]] ||
  fail "after 30 s: $up of $((${#targets[@]} + 2)) targets up, $scrapes scrapes of the least scraped, bench TTFT count $ttft, soak time-to-OOM series $oom, $unevaluated rule groups not evaluated: $(curl -sS --noproxy '*' "$prom/api/v1/targets" | jq -c '[.data.activeTargets[] | {scrapeUrl, health, lastError}]')"
at=$(date +%s.%N)
kill -0 "$bench_pid" 2>/dev/null || { LOG=$TMP/bench.log; fail "the bench ended before the check"; }
kill -0 "$soak_pid" 2>/dev/null || { LOG=$TMP/soak.log; fail "the soak ended before the check"; }
echo "Prometheus $prom: ${#targets[@]} daemons ${targets[*]}, bench $bench_target, soak $soak_target; checking at $at, $((SECONDS - started)) s after start"

# --- the fake libnvme's values (tests/fakes/fake_libnvme.cpp) as the daemon
# exports them: nvme0's health log in the metrics' units, its Identify, and
# nvme1's temperature (a second controller told apart by the fake).
nvme0="instance=\"$phison_target\", controller=\"nvme0\""
value_failures=0
while read -r line; do
  expr=${line% *} want=${line##* }  # the expected value is the last word
  got=$(curl -sS --noproxy '*' --max-time 5 "$prom/api/v1/query" --data-urlencode "query=$expr" --data-urlencode "time=$at" |
    jq -r 'if (.data.result | length) == 1 then .data.result[0].value[1] else "\(.data.result | length) series" end')
  awk -v g="$got" -v w="$want" 'BEGIN { exit !(g == w) }' ||
    { echo "FAIL fake libnvme: $expr = $got, expected $want"; value_failures=$((value_failures + 1)); }
done <<VALUES
tierscope_nvme_critical_warning{$nvme0} 0
tierscope_nvme_temperature_celsius{$nvme0} 45
tierscope_nvme_temperature_sensor_celsius{$nvme0, sensor="2"} 50
tierscope_nvme_available_spare_ratio{$nvme0} 1
tierscope_nvme_percentage_used_ratio{$nvme0} 0.03
tierscope_nvme_data_written_bytes_total{$nvme0} 20480000000000
tierscope_nvme_power_on_seconds_total{$nvme0} 18000000
tierscope_nvme_media_errors_total{$nvme0} 0
tierscope_nvme_warning_temperature_seconds_total{$nvme0} 120
count(tierscope_nvme_identify_info{$nvme0, vid="0x1987", model="PHISON AI100E 2TB", serial="511240904A12345678", firmware="EFCM32.1"}) 1
tierscope_nvme_temperature_celsius{instance="$phison_target", controller="nvme1"} 35
VALUES
(( value_failures == 0 )) || { LOG=$TMP/daemon-phison.log; fail "the fake libnvme's values, above"; }
echo "fake libnvme: nvme0 and nvme1 health and Identify series carry the fake's values"

# --- fixture_gaps.txt names metrics the source defines and these hosts do not produce.
curl -sS --noproxy '*' "$prom/api/v1/label/__name__/values" | jq -r '.data[]' | sed -E 's/_(bucket|count|sum)$//' | sort -u >"$TMP/produced.txt"
# (Whole names only: "tierscope_meminfo_" is the prefix of one metric per meminfo field.)
grep -rhoE '"tierscope_[a-z0-9_]*[a-z0-9]"' "$TIERSCOPE_SOURCE_DIR"/{core,daemon,exporters,probes,workloads} | tr -d '"' | sort -u >"$TMP/defined.txt"
while read -r name _; do
  [[ -z $name || $name == \#* ]] && continue
  if ! grep -qxF "$name" "$TMP/defined.txt"; then
    echo "FAIL fixture_gaps.txt: $name is not a metric the source defines"; pre_failures=$((pre_failures + 1))
  fi
  if grep -qxF "$name" "$TMP/produced.txt"; then
    echo "FAIL fixture_gaps.txt: $name is produced by the test's hosts: remove it from the list"; pre_failures=$((pre_failures + 1))
  fi
done <"$here/fixture_gaps.txt"
unlisted=$(comm -23 "$TMP/defined.txt" "$TMP/produced.txt" | grep -vxF -f <(awk '!/^#/ && NF { print $1 }' "$here/fixture_gaps.txt") | tr '\n' ' ' || true)
[[ -z $unlisted ]] || echo "note: defined in the source, not produced here, not in fixture_gaps.txt: $unlisted"

# --- the self-test: exactly these failures, with these diagnoses.
rc=0
bash "$here/check_contract.sh" "$prom" "$at" "$TMP/self/dashboards" "$TMP/rules/self" "$TMP/self-gaps.txt" >"$TMP/self.out" 2>&1 || rc=$?
# shellcheck disable=SC2016 # "$card" is the name of a dashboard variable
expected=(
  'FAIL dashboard "Contract self-test" (self.json), panel "Renamed metric", refId A: no series'
  '- tierscope_disk_read_byte_total{job=~".+"}: metric missing: no series named tierscope_disk_read_byte_total (names like it: tierscope_disk_read_bytes_total'
  'FAIL dashboard "Contract self-test" (self.json), panel "Wrong label", refId A: no series'
  '- tierscope_gpu_power_watts{job=~".+", card=~".+"}: label missing: no series of tierscope_gpu_power_watts has label card (matcher card=~".+")'
  'FAIL dashboard "Contract self-test" (self.json), panel "Wrong label value", refId A: no series'
  '- tierscope_memory_used_bytes{tier="dram"}: label matcher tier="dram" matches nothing (tier on tierscope_memory_used_bytes: gtt, ram, swap'
  'FAIL rule file self.yml, group "selftest-records", record instance:tierscope_swapfile_used_bytes:sum: no series'
  '- tierscope_memory_used_bytes{job="tierscope",tier="swapfile"}: label matcher tier="swapfile" matches nothing (tier on tierscope_memory_used_bytes: gtt, ram, swap'
  'FAIL rule file self.yml, group "selftest-alerts", alert TierscopeSelfTestRenamed: a vector selector returns no series'
  '- tierscope_probe_succes{job="tierscope"}: metric missing: no series named tierscope_probe_succes (names like it: tierscope_probe_duration_seconds, tierscope_probe_success'
  'FAIL rule file self.yml, group "selftest-alerts", alert TierscopeSelfTestManyToMany: health err: '
  'FAIL dashboard "Contract self-test" (self.json), variable "$card": no series'
  '- tierscope_gpu_info{job=~".+", card!=""}: label missing: no series of tierscope_gpu_info has label card'
  'note: dashboard "Contract self-test" (self.json), panel "Capacity by tier", refId A: legend "{{instance}} {{ tier }} {{card}}": no series returned has card'
  'UNVERIFIED dashboard "Contract self-test" (self.json), panel "Unproducible metric", refId A: no series'
  '- tierscope_selftest_unproducible_ratio: not produced on the test'"'"'s hosts: the self-test'"'"'s stand-in'
  'checked 17 queries and rules: 7 failure(s), 1 unverified'
)
missing=()
for line in "${expected[@]}"; do grep -qF -- "$line" "$TMP/self.out" || missing+=("$line"); done
if [[ $rc -ne 1 || ${#missing[@]} -gt 0 || $(grep -c '^FAIL' "$TMP/self.out") -ne 7 ]]; then
  echo "--- the checker on the self-test (exit $rc):"; cat "$TMP/self.out"
  printf 'expected line not found: %s\n' "${missing[@]}"
  echo "FAIL: the checker's self-test: expected exit 1 and exactly the 7 planted failures with their diagnoses" >&2
  exit 1
fi
echo "self-test: the checker found the 7 planted failures (renamed metric, missing labels, label value, evaluation error), the unverifiable panel, the legend note, and passed the rest"

# --- the dashboards and rules.
if [[ ! -d $grafana/dashboards ]]; then
  (( pre_failures == 0 )) || { echo "FAIL: failures above" >&2; exit 1; }
  echo "SKIP: $grafana/dashboards does not exist (no dashboards on this branch yet); the checker's self-test passed"
  exit 77
fi
rules_arg=$TMP/rules/grafana
[[ -d $grafana/rules ]] || { echo "note: no $grafana/rules: rules not checked"; rules_arg=-; }
rc=0
bash "$here/check_contract.sh" "$prom" "$at" "$grafana/dashboards" "$rules_arg" "$here/fixture_gaps.txt" || rc=$?
kill -0 "$bench_pid" 2>/dev/null || echo "note: the bench ended during the check (queries are at $at, while it ran)"
echo "$((SECONDS - started)) s in all"
(( rc == 0 && pre_failures == 0 )) || { echo "FAIL: the metric contract of $grafana: failures above" >&2; exit 1; }
echo "PASS: every dashboard query and rule of $grafana returns series on the fixture hosts, the bench and the soak"
