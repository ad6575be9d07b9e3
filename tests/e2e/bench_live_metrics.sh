#!/usr/bin/env bash
# `tierscope bench` end to end: the real binary against the mock engine
# (tests/workloads/mock_engine) on 127.0.0.1, a small concurrency_sweep with
# injected delays so it runs a few seconds, its live /metrics (`listen`)
# scraped while it runs, then the output directory checked.
#
# While running: tierscope_bench_active_streams > 0 at some scrape,
# tierscope_bench_requests_total{outcome="ok"} grows and never falls.
# At the end (the mock answers /metrics `metrics_delay_ms` late, which holds the
# runner in its after-step engine sample while every request is recorded, so
# the final state can be scraped before the process exits): requests by
# outcome == requests.jsonl lines by outcome; TTFT histogram count == records
# with a ttft_ms (every request with a first token, warm-up included, as the
# metric's help says); ITL count == all itl_ms gaps; promtool accepts it.
# Output: requests.jsonl has users × (warmup + repetitions) lines summed over
# the steps; summary.json (jq) has steps[].users and ok counts; summary.csv
# its header; scenario.yaml the effective scenario.
# Usage: bench_live_metrics.sh TIERSCOPE_BINARY MOCK_ENGINE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
mock=$2
command -v jq >/dev/null || fail "jq not installed"
command -v promtool >/dev/null || fail "promtool not installed (Debian package prometheus)"

MOCK_PID=""
BENCH_PID=""
cleanup_bench() {
  stop_pids "$BENCH_PID" "$MOCK_PID"
  cleanup_e2e
}
trap cleanup_bench EXIT

# 127.0.0.1 only: never through a proxy from the environment.
get() { curl -sSf --noproxy '*' --max-time 5 "$@"; }
# total FILE METRIC: the sum of every sample of METRIC (all label sets).
total() { awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d\n", s }' "$1"; }
num_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# --- the mock engine: 150 ms to the first token, 25 ms per token; /metrics
# answered 2 s late (see above); vLLM flavour (/version, vllm:* metrics).
start_mock_engine "$mock" --ttft-ms 150 --itl-ms 25 --flavor vllm --metrics-delay-ms 2000

# --- the scenario: 2 then 4 users, each 1 warm-up + 3 counted requests of
# 16 tokens (~0.55 s each): ~2.2 s per step plus the delayed samples.
users=(2 4)
warmup=1
repetitions=3
expected=0
for u in "${users[@]}"; do expected=$((expected + u * (warmup + repetitions))); done
expected_warmup=$(( (2 + 4) * warmup ))
cat >"$TMP/scenario.yaml" <<YAML
engine: { kind: vllm, url: http://127.0.0.1:$MOCK_PORT, model: mock-model, api: completions }
scenario: concurrency_sweep
users: [$(IFS=,; echo "${users[*]}")]
prompt_tokens: 32
output_tokens: 16
warmup: $warmup
repetitions: $repetitions
stop_on_failure: false
request_timeout: 30s
run_deadline: 90s
listen: 127.0.0.1:0
YAML

out=$TMP/out
LOG=$TMP/bench.err
: >"$LOG"
"$bin" bench "$TMP/scenario.yaml" --out "$out" >"$TMP/bench.out" 2>"$LOG" &
BENCH_PID=$!
PORT=""
for _ in $(seq 200); do
  PORT=$(sed -n 's|.*live metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$LOG" | head -1)
  [[ -n "$PORT" ]] && break
  kill -0 "$BENCH_PID" 2>/dev/null || fail "tierscope bench exited before listening"
  sleep 0.05
done
[[ -n "$PORT" && "$PORT" != 0 ]] || fail "tierscope bench did not log its live metrics address within 10 s"

# --- scrape while it runs (every 50 ms, at most 90 s).
scrapes=0 max_active=0 first_ok="" last_ok=0 final=""
declare -A users_seen=()
give_up=$((SECONDS + 90))
while (( SECONDS < give_up )); do
  lines=0
  [[ -f "$out/requests.jsonl" ]] && lines=$(wc -l <"$out/requests.jsonl")
  if get "http://127.0.0.1:$PORT/metrics" >"$TMP/s.prom" 2>/dev/null; then
    scrapes=$((scrapes + 1))
    # One pass: active streams, ok requests, all requests, step users (- when absent).
    read -r active ok all su < <(awk '
      $1 == "tierscope_bench_active_streams" { a = $2 }
      $1 == "tierscope_bench_requests_total{outcome=\"ok\"}" { o = $2 }
      index($1, "tierscope_bench_requests_total{") == 1 { t += $2 }
      $1 == "tierscope_bench_step_users" { u = $2 }
      END { printf "%s %s %d %s\n", (a == "" ? "-" : a), (o == "" ? "-" : o), t, (u == "" ? "-" : u) }' "$TMP/s.prom")
    [[ $active != - ]] || fail "no tierscope_bench_active_streams in a scrape"
    [[ $ok != - ]] || fail "no tierscope_bench_requests_total{outcome=\"ok\"} in a scrape"
    [[ $su != - ]] && users_seen[$su]=1
    num_ge "$active" "$max_active" && max_active=$active
    num_ge "$ok" "$last_ok" || fail "requests_total{outcome=\"ok\"} fell from $last_ok to $ok"
    [[ -n "$first_ok" ]] || first_ok=$ok
    last_ok=$ok
    # Every request recorded, and every one counted by the metrics: the final state.
    if (( lines >= expected && all >= expected )); then
      final=$TMP/final.prom
      cp "$TMP/s.prom" "$final"
      break
    fi
  else
    kill -0 "$BENCH_PID" 2>/dev/null || break
  fi
  sleep 0.05
done
[[ -n "$final" ]] || fail "never scraped the final state ($scrapes scrapes; requests.jsonl has ${lines:-0} of $expected lines; bench $(kill -0 "$BENCH_PID" 2>/dev/null && echo running || echo exited))"

# --- the bench finishes on its own, exit code 0.
rc=0
for _ in $(seq 300); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BENCH_PID" 2>/dev/null && fail "tierscope bench still running 30 s after its last request"
wait "$BENCH_PID" || rc=$?
BENCH_PID=""
[[ $rc -eq 0 ]] || fail "tierscope bench exited with $rc"

# --- live metrics, checked.
(( scrapes >= 10 )) || fail "only $scrapes scrapes while it ran"
num_ge "$max_active" 1 || fail "tierscope_bench_active_streams was never > 0 ($scrapes scrapes)"
num_ge 4 "$max_active" || fail "tierscope_bench_active_streams reached $max_active with at most 4 users"
final_ok=$(value "$final" 'tierscope_bench_requests_total{outcome="ok"}')
(( final_ok > first_ok )) || fail "requests_total{outcome=\"ok\"} did not grow ($first_ok -> $final_ok)"
[[ -n "${users_seen[2]:-}" && -n "${users_seen[4]:-}" ]] || fail "tierscope_bench_step_users: saw ${!users_seen[*]}, expected 2 and 4"
lint=$(promtool check metrics <"$final" 2>&1) || fail "promtool check metrics failed: $lint"
[[ -z "$lint" ]] || fail "promtool check metrics reported: $lint"

jsonl=$out/requests.jsonl
lines=$(wc -l <"$jsonl")
[[ $lines -eq $expected ]] || fail "requests.jsonl has $lines lines, expected $expected"
jq -e . "$jsonl" >/dev/null || fail "requests.jsonl: not JSON lines"
ok_lines=$(jq -s '[.[] | select(.outcome == "ok")] | length' "$jsonl")
warm_lines=$(jq -s '[.[] | select(.warmup == true)] | length' "$jsonl")
ttft_lines=$(jq -s '[.[] | select(.ttft_ms != null)] | length' "$jsonl")
itl_gaps=$(jq -s '[.[] | .itl_ms | length] | add' "$jsonl")
[[ $ok_lines -eq $expected ]] || fail "$ok_lines of $expected requests ok: $(jq -c 'select(.outcome != "ok") | {outcome, error}' "$jsonl" | head -3)"
[[ $warm_lines -eq $expected_warmup ]] || fail "$warm_lines warm-up records, expected $expected_warmup"
[[ $final_ok -eq $ok_lines ]] || fail "requests_total{outcome=\"ok\"} $final_ok != $ok_lines ok records"
[[ $(total "$final" tierscope_bench_requests_total) -eq $lines ]] || fail "requests_total sums to $(total "$final" tierscope_bench_requests_total), requests.jsonl has $lines"
final_active=$(value "$final" tierscope_bench_active_streams)
[[ $final_active == 0 ]] || fail "tierscope_bench_active_streams $final_active after the last request"
ttft_count=$(value "$final" tierscope_bench_ttft_seconds_count) || fail "no tierscope_bench_ttft_seconds_count"
[[ $ttft_count -eq $ttft_lines && $ttft_count -eq $lines ]] ||
  fail "TTFT histogram count $ttft_count; records with ttft_ms $ttft_lines; requests.jsonl lines $lines (warm-up $warm_lines + counted $((lines - warm_lines)))"
[[ $(value "$final" 'tierscope_bench_ttft_seconds_bucket{le="+Inf"}') -eq $ttft_count ]] || fail "TTFT +Inf bucket != count"
itl_count=$(value "$final" tierscope_bench_inter_token_latency_seconds_count) || fail "no ITL histogram count"
[[ $itl_count -eq $itl_gaps ]] || fail "ITL histogram count $itl_count != $itl_gaps itl_ms gaps in requests.jsonl"
ttft_sum=$(value "$final" tierscope_bench_ttft_seconds_sum)
# Injected 150 ms: the mean TTFT is at least that and well under a second.
awk -v s="$ttft_sum" -v n="$ttft_count" 'BEGIN { m = s / n; exit !(m >= 0.15 && m < 1.0) }' ||
  fail "mean TTFT $ttft_sum/$ttft_count s is not in [0.15, 1) with 150 ms injected"

# --- the output directory.
sj=$out/summary.json
jq -e . "$sj" >/dev/null || fail "summary.json does not parse"
[[ $(jq -r .status "$sj") == complete ]] || fail "summary.json status $(jq -r .status "$sj")"
[[ $(jq -c '[.steps[].users]' "$sj") == "[2,4]" ]] || fail "steps[].users: $(jq -c '[.steps[].users]' "$sj")"
[[ $(jq -c '[.steps[].requests]' "$sj") == "[6,12]" ]] || fail "steps[].requests: $(jq -c '[.steps[].requests]' "$sj")"
[[ $(jq -c '[.steps[].ok]' "$sj") == "[6,12]" ]] || fail "steps[].ok: $(jq -c '[.steps[].ok]' "$sj")"
jq -e '[.steps[] | .ttft_ms.count > 0 and (.ttft_ms.ci95 | length) == 2 and .failed == false] | all' "$sj" >/dev/null ||
  fail "steps: ttft_ms stats missing or a step failed: $(jq -c '[.steps[] | {ttft_ms, failed}]' "$sj")"
jq -e '.wall == null' "$sj" >/dev/null || fail "wall: $(jq -c .wall "$sj")"
csv=$out/summary.csv
head -1 "$csv" | grep -q '^step,context_tokens,users,prompt,requests,ok,failed,failures,ttft_ms_count,' ||
  fail "summary.csv header: $(head -1 "$csv" | cut -c1-120)"
[[ $(wc -l <"$csv") -eq 3 ]] || fail "summary.csv has $(wc -l <"$csv") lines, expected header + 2 steps"
[[ -s $out/scenario.yaml ]] || fail "scenario.yaml missing"
grep -q '^scenario: concurrency_sweep' "$out/scenario.yaml" || fail "scenario.yaml: no 'scenario: concurrency_sweep'"
grep -q "127.0.0.1:$MOCK_PORT" "$out/scenario.yaml" || fail "scenario.yaml: engine url missing"

# The run's recording (workloads/run_recording.h): host samples at 1 s while
# it ran, every request record as in requests.jsonl, a step_start and a
# step_end per step, the run's end; every segment parses.
"$bin" recording "$out" >"$TMP/recording.jsonl" 2>"$TMP/recording.err" || { LOG=$TMP/recording.err; fail "tierscope recording $out"; }
grep -q ' 0 torn, 0 corrupt' "$TMP/recording.err" || { LOG=$TMP/recording.err; fail "the bench's recording has torn or corrupt lines"; }
rec_requests=$(jq -s '[.[] | select(.type == "request")] | length' "$TMP/recording.jsonl")
[[ $rec_requests -eq $lines ]] || fail "recording: $rec_requests request records, requests.jsonl has $lines"
[[ $(jq -s '[.[] | select(.type == "step_start")] | length' "$TMP/recording.jsonl") -eq 2 ]] || fail "recording: not 2 step_start events"
[[ $(jq -s '[.[] | select(.type == "step_end" and .finished == true)] | length' "$TMP/recording.jsonl") -eq 2 ]] || fail "recording: not 2 finished step_end events"
[[ $(jq -s '[.[] | select(.type == "run_end")][0].status' "$TMP/recording.jsonl") == '"complete"' ]] || fail "recording: no run_end complete"
rec_samples=$(jq -s '[.[] | select(.type == "sample" and (.values | has("tierscope_memory_capacity_bytes{device=\"host\",tier=\"ram\"}")))] | length' "$TMP/recording.jsonl")
[[ $rec_samples -ge 2 ]] || fail "recording: $rec_samples host samples with the RAM capacity, expected the start, the end and one per second"

echo "PASS: $scrapes scrapes; active_streams max $max_active; requests_total{ok} $first_ok -> $final_ok;" \
  "ttft_count $ttft_count == $lines requests.jsonl lines ($warm_lines warm-up + $((lines - warm_lines)) counted);" \
  "recording: $rec_samples host samples, $rec_requests requests;" \
  "itl_count $itl_count; mean TTFT $(awk -v s="$ttft_sum" -v n="$ttft_count" 'BEGIN { printf "%.1f", 1000 * s / n }') ms; promtool clean"
