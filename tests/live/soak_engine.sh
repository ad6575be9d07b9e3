#!/usr/bin/env bash
# `tierscope soak` launching the mock engine with --leak-bytes-per-request
# 256 KiB under closed-loop load (2 users, 50 s, then a 10 s idle tail): the
# workload's anon+swap is LEAK and its bytes per request (Theil-Sen against
# the requests done) within 10 % of 256 KiB; requests.jsonl and the recording
# hold the requests; the live /metrics serves the soak's gauges while it runs.
# Needs jq and curl.
source "$(dirname "$0")/../e2e/lib.sh"
bin=$(realpath "$1")
mock=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
command -v jq >/dev/null || skip "jq not installed"
command -v curl >/dev/null || skip "curl not installed"
N=262144
cat >"$TMP/soak.yaml" <<YAML
engine:
  kind: llamacpp
  launch:
    argv: [$mock, --port, "{port}", --leak-bytes-per-request, "$N", --itl-ms, "20", --tokens, "8"]
    ready: llamacpp
    restart: per_run
scenario: soak
duration: 60s
idle_tail: 10s
users: 2
prompt_tokens: 32
output_tokens: 8
sample_interval: 250ms
checkpoint_interval: 5s
leak: { min_duration: 30s }
listen: 127.0.0.1:0
YAML
"$bin" soak "$TMP/soak.yaml" --out "$TMP/run" >"$TMP/soak.log" 2>"$TMP/soak.err" &
soak=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*live metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/soak.err" | head -1)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { cat "$TMP/soak.err" >&2; fail "no live metrics address"; }
sleep 15
curl -sSf --max-time 5 "http://127.0.0.1:$port/metrics" >"$TMP/metrics"
grep -q '^tierscope_soak_elapsed_seconds ' "$TMP/metrics" || fail "live metrics lack tierscope_soak_elapsed_seconds"
grep -q '^tierscope_soak_verdict{subject="workload",tier="anon_swap",verdict="LEAK"}' "$TMP/metrics" || fail "live metrics lack the verdict"
grep -q '^tierscope_bench_requests_total{outcome="ok"}' "$TMP/metrics" || fail "live metrics lack the load's requests"
grep -q "^tierscope_recorder_dropped_samples_total 0" "$TMP/metrics" || fail "live metrics lack the recorder's dropped samples"
wait $soak || { cat "$TMP/soak.log" "$TMP/soak.err" >&2; fail "soak exited $?"; }
s=$TMP/run/soak.json
[[ $(jq -r .status "$s") == done ]] || fail "status $(jq -r .status "$s")"
row=$(jq -c '.series[] | select(.subject == "workload" and .tier == "anon_swap")' "$s")
echo "workload anon_swap: $row"
[[ $(jq -r .verdict <<<"$row") == LEAK ]] || fail "verdict $(jq -r .verdict <<<"$row"), expected LEAK"
per=$(jq -r .per_request <<<"$row")
# Under AddressSanitizer the instrumented engine's per-request garbage sits in
# the allocator's quarantine (+~24 % measured): there only at least the leak
# and at most +50 % is asked.
hi=0.10
[[ ${TIERSCOPE_SANITIZE:-OFF} == ON ]] && hi=0.50
awk -v p="$per" -v n="$N" -v hi="$hi" 'BEGIN { e = (p - n) / n; exit !(e > -0.10 && e < hi) }' ||
  fail "per request $per B, expected $N within -10 % .. +$(awk -v h="$hi" 'BEGIN { print h * 100 }') %"
ok=$(jq -r .requests_ok "$s")
[[ $ok -ge 100 ]] || fail "only $ok requests ok"
[[ $(grep -c '"outcome":"ok"' "$TMP/run/requests.jsonl") -eq $ok ]] || fail "requests.jsonl does not hold the $ok ok requests"
echo "ok: LEAK, $per B per request (leak $N), $ok requests"

# --- part 2: the same engine under a budget (limits.memory_max 512M; root and
# a memory controller, else this part is skipped): the workload is the
# budget's cgroup, so its memory.stat tiers (cgroup_anon, page_cache) are
# subjects too, and the time to OOM is memory.max minus current over the slope.
if [[ $(id -u) -ne 0 ]] ||
   { ! { [[ -f /sys/fs/cgroup/cgroup.controllers ]] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; } &&
     [[ ! -f /sys/fs/cgroup/memory/memory.usage_in_bytes ]]; }; then
  echo "SKIP (part 2): needs root and a memory controller"
  exit 0
fi
sed -e 's/^duration: 60s/duration: 20s/' -e 's/^idle_tail: 10s/idle_tail: 0s/' -e 's/^listen: .*/listen: off/' \
  -e 's/^leak: .*/leak: { min_duration: 5s }/' "$TMP/soak.yaml" >"$TMP/soak-budget.yaml"
printf 'limits: { memory_max: 512M }\n' >>"$TMP/soak-budget.yaml"
"$bin" soak "$TMP/soak-budget.yaml" --out "$TMP/run-budget" >"$TMP/soak-budget.log" 2>&1 ||
  { cat "$TMP/soak-budget.log" >&2; fail "soak under a budget exited $?"; }
s=$TMP/run-budget/soak.json
anon=$(jq -c '.series[] | select(.subject == "workload" and .tier == "cgroup_anon")' "$s")
[[ -n $anon ]] || fail "no workload cgroup_anon series under a budget: $(jq -c '[.series[] | .tier]' "$s")"
[[ $(jq -r .verdict <<<"$anon") == LEAK ]] || fail "cgroup_anon verdict $(jq -r .verdict <<<"$anon"), expected LEAK"
row=$(jq -c '.series[] | select(.subject == "workload" and .tier == "anon_swap")' "$s")
ttoom=$(jq -r '.time_to_oom_s // empty' <<<"$row")
[[ -n $ttoom ]] || fail "no time to OOM under a 512M budget: $row"
awk -v t="$ttoom" 'BEGIN { exit !(t > 0 && t < 600) }' || fail "time to OOM $ttoom s under 512M at ~16 MB/s, expected < 600 s"
echo "ok (part 2): under memory_max 512M the workload is its cgroup: cgroup_anon LEAK, time to OOM ${ttoom} s"
