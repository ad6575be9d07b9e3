#!/usr/bin/env bash
# `tierscope bench` with `cost:` end to end: the real binary against the mock
# engine on 127.0.0.1, a prices file of round figures, system_watts given (no
# RAPL without root), its live /metrics scraped while it runs.
#
# While running: tierscope_bench_cost_dollars_total{basis} is served for
# local_hardware, local_energy, cloud_gpu and api, never falls between
# scrapes, and tierscope_bench_cost_info names the first chosen cloud instance
# and API. At the end, summary.json's cost figures equal the documented
# formulas recomputed with jq from summary.json's own cost.wall_s and the
# steps' token sums; the SSD line is either absent with a reason or equal to
# its formula; the console prints the cost lines.
# Usage: bench_cost.sh TIERSCOPE_BINARY MOCK_ENGINE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
mock=$2
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }

MOCK_PID=""
BENCH_PID=""
cleanup_bench() {
  stop_pids "$BENCH_PID" "$MOCK_PID"
  cleanup_e2e
}
trap cleanup_bench EXIT
get() { curl -sSf --noproxy '*' --max-time 5 "$@"; }
num_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# 100 ms to the first token, 25 ms per token: 2 users × (1 + 4) requests of 24
# tokens, ~3 s of run (3 host samples at least).
start_mock_engine "$mock" --ttft-ms 100 --itl-ms 25

cat >"$TMP/prices.yaml" <<'YAML'
cloud_gpu:
  gpu_a: {usd_per_hour: 4.00, gpus: 1, gpu_model: H100, memory_gib: 80, source: "https://example.invalid/a", date: "2026-01-01"}
  gpu_b: {usd_per_hour: 2.00, gpus: 1, gpu_model: A100, memory_gib: 80, source: "https://example.invalid/b", date: "2026-01-01"}
api:
  api_a: {usd_per_1m_input: 3.00, usd_per_1m_output: 15.00, source: "https://example.invalid/c", date: "2026-01-01"}
local:
  box: {purchase_usd: 4380, amortization_years: 2, hours_per_day: 6, electricity_usd_per_kwh: 0.36, source: "test", date: "2026-01-01"}
ssd:
  drive: {purchase_usd: 500, rated_tbw: 1000, source: "test", date: "2026-01-01"}
YAML
cat >"$TMP/scenario.yaml" <<YAML
engine: { kind: openai, url: http://127.0.0.1:$MOCK_PORT, model: mock-model, api: completions }
scenario: concurrency_sweep
users: [2]
prompt_tokens: 32
output_tokens: 24
warmup: 1
repetitions: 4
request_timeout: 30s
run_deadline: 60s
listen: 127.0.0.1:0
cost:
  prices: prices.yaml
  local: box
  cloud_gpu: [gpu_a, gpu_b]
  ssd: drive
  system_watts: 250
YAML

out=$TMP/out
LOG=$TMP/bench.err
"$bin" bench "$TMP/scenario.yaml" --out "$out" >"$TMP/bench.out" 2>"$LOG" &
BENCH_PID=$!
PORT=$(port_from_log "$LOG" 's|.*live metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$BENCH_PID" "tierscope bench")
[[ -n "$PORT" && "$PORT" != 0 ]] || fail "tierscope bench did not log its live metrics address"

# --- scrape every 100 ms while it runs: each basis never falls.
declare -A last=()
scrapes=0 with_cost=0 info=""
while kill -0 "$BENCH_PID" 2>/dev/null; do
  if get "http://127.0.0.1:$PORT/metrics" >"$TMP/s.prom" 2>/dev/null; then
    scrapes=$((scrapes + 1))
    while read -r basis v; do
      [[ -n "${last[$basis]:-}" ]] && { num_ge "$v" "${last[$basis]}" || fail "cost{basis=\"$basis\"} fell from ${last[$basis]} to $v"; }
      last[$basis]=$v
    done < <(sed -n 's/^tierscope_bench_cost_dollars_total{basis="\([a-z_]*\)"} \(.*\)$/\1 \2/p' "$TMP/s.prom")
    grep -q '^tierscope_bench_cost_dollars_total{basis="local_hardware"}' "$TMP/s.prom" && with_cost=$((with_cost + 1))
    grep -q '^tierscope_bench_cost_info' "$TMP/s.prom" && info=$(grep '^tierscope_bench_cost_info' "$TMP/s.prom")
  fi
  sleep 0.1
done
rc=0
wait "$BENCH_PID" || rc=$?
BENCH_PID=""
[[ $rc -eq 0 ]] || fail "tierscope bench exited with $rc"
(( with_cost >= 3 )) || fail "tierscope_bench_cost_dollars_total{basis=\"local_hardware\"} in $with_cost of $scrapes scrapes"
for b in local_hardware local_energy cloud_gpu api; do
  [[ -n "${last[$b]:-}" ]] || fail "no tierscope_bench_cost_dollars_total{basis=\"$b\"} was served"
done
num_ge "${last[api]}" 0.00001 || fail "the live api cost stayed at ${last[api]}"
grep -q 'basis="cloud_gpu",name="gpu_a"' <<<"$info" || fail "tierscope_bench_cost_info does not name gpu_a: $info"
grep -q 'basis="api",name="api_a"' <<<"$info" || fail "tierscope_bench_cost_info does not name api_a: $info"

# --- summary.json: every figure from its formula, recomputed here.
sj=$out/summary.json
jq -e '.status == "complete" and .cost.samples >= 3 and .cost.wall_s > 1' "$sj" >/dev/null ||
  fail "summary.json status/cost: $(jq -c '{status, wall_s: .cost.wall_s, samples: .cost.samples}' "$sj")"
check() {  # check NAME JQ_BOOLEAN
  jq -e "$2" "$sj" >/dev/null || fail "$1: $(jq -c '.cost | {wall_s, tokens, lines, absent}' "$sj")"
}
close='def close(a; b): ((a - b) | fabs) <= 1e-9 * ([(b | fabs), 1e-12] | max);'
check "tokens = the steps' sums" '.cost.tokens.input == ([.steps[].input_tokens] | add) and
  .cost.tokens.output == ([.steps[].output_tokens] | add) and .cost.tokens.output > 0'
check "local_hardware = 4380 / (2 × 365 × 6) × wall_s / 3600" "$close"' .cost as $c |
  close($c.lines.local_hardware.usd; 4380 / (2 * 365 * 6) * $c.wall_s / 3600)'
check "local_energy = 250 W × wall_s / 3.6e6 × 0.36" "$close"' .cost as $c |
  close($c.lines.local_energy.usd; 250 * $c.wall_s / 3600000 * 0.36) and $c.energy.method == "system_watts"'
check "local_total per 1M output tokens" "$close"' .cost as $c |
  close($c.lines.local_total.usd_per_1m_output_tokens;
        ($c.lines.local_hardware.usd + $c.lines.local_energy.usd) / $c.tokens.output * 1e6)'
check "cloud_gpu = usd_per_hour × wall_s / 3600, both instances" "$close"' .cost as $c |
  close($c.lines.cloud_gpu.gpu_a.usd; 4 * $c.wall_s / 3600) and close($c.lines.cloud_gpu.gpu_b.usd; 2 * $c.wall_s / 3600) and
  close($c.lines.cloud_gpu.gpu_a.usd_per_1m_output_tokens; 4 * $c.wall_s / 3600 / $c.tokens.output * 1e6)'
check "api = in × 3 / 1e6 + out × 15 / 1e6" "$close"' .cost as $c |
  close($c.lines.api.api_a.usd; $c.tokens.input * 3 / 1e6 + $c.tokens.output * 15 / 1e6) and
  close($c.lines.api.api_a.usd_per_1m_total_tokens; $c.lines.api.api_a.usd / $c.tokens.total * 1e6)'
check "every input with its source and date" '.cost.inputs.local.source == "test" and
  .cost.inputs.cloud_gpu.gpu_a.source == "https://example.invalid/a" and .cost.inputs.api.api_a.date == "2026-01-01" and
  .cost.inputs.system_watts == 250'
check "ssd_wear: absent with a reason, or bytes / (1000 × 1e12) × 500" "$close"' .cost as $c |
  if $c.lines.ssd_wear == null then ($c.absent.ssd_wear | type) == "string"
  else close($c.lines.ssd_wear.usd; $c.lines.ssd_wear.bytes_written / 1e15 * 500) end'
grep -q '^cost over ' "$TMP/bench.out" || fail "the console shows no cost lines: $(tail -15 "$TMP/bench.out")"
grep -q 'cloud_gpu *gpu_a' "$TMP/bench.out" || fail "the console cost lines lack gpu_a: $(tail -15 "$TMP/bench.out")"

echo "PASS: $scrapes scrapes ($with_cost with cost); wall $(jq .cost.wall_s "$sj") s, $(jq .cost.tokens.output "$sj") output tokens;" \
  "local $(jq .cost.lines.local_total.usd_per_1m_output_tokens "$sj") \$/1M out, gpu_a $(jq .cost.lines.cloud_gpu.gpu_a.usd_per_1m_output_tokens "$sj"), api_a $(jq .cost.lines.api.api_a.usd_per_1m_output_tokens "$sj");" \
  "ssd_wear: $(jq -c '.cost.lines.ssd_wear.usd // .cost.absent.ssd_wear' "$sj")"
