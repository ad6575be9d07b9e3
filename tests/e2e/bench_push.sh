#!/usr/bin/env bash
# `tierscope bench` with `push`: the real prometheus-pushgateway (Debian
# package prometheus-pushgateway) on a free 127.0.0.1 port (it picks one:
# port 0, read back from its log), a short concurrency_sweep against the mock
# engine (tests/workloads/mock_engine), then the Pushgateway's own /metrics:
#   - the run's series are there under the group job="tierscope-e2e",
#     instance="e2e-host", model="mock/model 1" (a value with a slash and a
#     space: sent base64url-encoded, as label@base64), with the values of the
#     run: tierscope_bench_requests_total by outcome == requests.jsonl by
#     outcome == the summary's steps[].requests; the TTFT histogram's count ==
#     records with ttft_ms; tierscope_bench_run_info{scenario,status} 1 with
#     summary.json's status; the Pushgateway's push_time_seconds for the group;
#   - summary.json says push: {url, job, grouping, ok: true}; no warning.
# A 2 s observe-only soak pushes its metrics too (tierscope_soak_*,
# run_info{scenario="soak",status="done"}, soak.json push.ok true).
# Then the same bench run with push.url at a closed port (the Pushgateway's, after
# it stopped): exit status 0 as before, one warning line on stderr,
# summary.json push.ok false with the error, the run's results unchanged.
# Skips (77) when prometheus-pushgateway is not installed.
# Usage: bench_push.sh TIERSCOPE_BINARY MOCK_ENGINE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
mock=$2
PUSHGATEWAY=${PUSHGATEWAY:-/usr/bin/prometheus-pushgateway}
[[ -x $PUSHGATEWAY ]] || { echo "SKIP: $PUSHGATEWAY not installed (Debian package prometheus-pushgateway)"; exit 77; }
command -v jq >/dev/null || fail "jq not installed"

MOCK_PID=""
GW_PID=""
cleanup_push() {
  stop_pids "$GW_PID" "$MOCK_PID"
  cleanup_e2e
}
trap cleanup_push EXIT
get() { curl -sSf --noproxy '*' --max-time 5 "$@"; }

# --- the Pushgateway: in memory only (no persistence file), port from its log.
"$PUSHGATEWAY" --web.listen-address=127.0.0.1:0 --persistence.file= >"$TMP/gw.log" 2>&1 &
GW_PID=$!
GW_PORT=$(port_from_log "$TMP/gw.log" 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$GW_PID" \
            prometheus-pushgateway)
for _ in $(seq 50); do get "http://127.0.0.1:$GW_PORT/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done

# --- the mock engine: 20 ms to the first token, 5 ms per token.
start_mock_engine "$mock" --ttft-ms 20 --itl-ms 5 --flavor vllm

# 1 then 2 users, each 1 warm-up + 2 counted requests of 8 tokens: 9 requests.
expected=9
cat >"$TMP/scenario.yaml" <<YAML
engine: { kind: vllm, url: http://127.0.0.1:$MOCK_PORT, model: mock-model, api: completions }
scenario: concurrency_sweep
users: [1, 2]
prompt_tokens: 16
output_tokens: 8
warmup: 1
repetitions: 2
request_timeout: 30s
run_deadline: 60s
push:
  url: http://127.0.0.1:$GW_PORT/
  job: tierscope-e2e
  grouping: { instance: e2e-host, model: "mock/model 1" }
YAML

# --- 1. the push lands.
out=$TMP/out
rc=0
timeout 90 "$bin" bench "$TMP/scenario.yaml" --out "$out" >"$TMP/bench.out" 2>"$TMP/bench.err" || rc=$?
[[ $rc -eq 0 ]] || fail "tierscope bench exited with $rc: $(cat "$TMP/bench.err")"
grep -qi 'warning' "$TMP/bench.err" && fail "warning on a successful push: $(cat "$TMP/bench.err")"
sj=$out/summary.json
push=$(jq -c .push "$sj")
echo "summary.json push: $push"
[[ $(jq -r .push.ok "$sj") == true && $(jq -r .push.url "$sj") == "http://127.0.0.1:$GW_PORT" &&
   $(jq -r .push.job "$sj") == tierscope-e2e && $(jq -r '.push.grouping.model' "$sj") == "mock/model 1" &&
   $(jq -r '.push.error // "none"' "$sj") == none ]] || fail "summary.json push: $push"
jsonl=$out/requests.jsonl
[[ $(wc -l <"$jsonl") -eq $expected ]] || fail "requests.jsonl has $(wc -l <"$jsonl") lines, expected $expected"

get "http://127.0.0.1:$GW_PORT/metrics" >"$TMP/gw.prom" || fail "GET the Pushgateway's /metrics failed"
group='instance="e2e-host",job="tierscope-e2e",model="mock/model 1"'
# pushed NAME [EXTRA_LABELS]: the value of NAME{<group labels>[,EXTRA]} on the
# Pushgateway (labels sorted by name, as it writes them); fails when absent.
pushed() {
  local labels=$group
  [[ -n ${2:-} ]] && labels=$(printf '%s\n' "${group//\",/\"$'\n'}" "$2" | sort | paste -sd, -)
  awk -v s="$1{$labels}" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); found = 1 } END { exit !found }' "$TMP/gw.prom" ||
    { grep "^$1" "$TMP/gw.prom" | head -5 >&2; fail "no $1{$labels} on the Pushgateway"; }
}
outcomes=$(jq -r .outcome "$jsonl" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
echo "requests.jsonl by outcome: $outcomes"
for o in $(jq -r .outcome "$jsonl" | sort -u); do
  want=$(jq -r --arg o "$o" 'select(.outcome == $o) | .outcome' "$jsonl" | wc -l)
  got=$(pushed tierscope_bench_requests_total "outcome=\"$o\"")
  echo "  pushed tierscope_bench_requests_total{$group,outcome=\"$o\"} $got; requests.jsonl: $want"
  [[ $got == "$want" ]] || fail "pushed requests_total{outcome=$o} $got != $want records"
done
pushed_all=$(awk -v g="$group" 'index($0, "tierscope_bench_requests_total{") == 1 && index($0, g) { s += $NF } END { print s + 0 }' "$TMP/gw.prom")
summary_all=$(jq '[.steps[].requests] | add' "$sj")
warmups=$(jq -s '[.[] | select(.warmup == true)] | length' "$jsonl")
echo "  pushed requests_total (all outcomes) $pushed_all; summary steps[].requests $summary_all + $warmups warm-up"
[[ $pushed_all -eq $((summary_all + warmups)) && $pushed_all -eq $expected ]] ||
  fail "pushed requests_total sums to $pushed_all; summary.json steps[].requests $summary_all + $warmups warm-up; expected $expected"
ttft_lines=$(jq -s '[.[] | select(.ttft_ms != null)] | length' "$jsonl")
ttft_count=$(pushed tierscope_bench_ttft_seconds_count)
[[ $ttft_count -eq $ttft_lines ]] || fail "pushed TTFT count $ttft_count != $ttft_lines records with ttft_ms"
status=$(jq -r .status "$sj")
info=$(pushed tierscope_bench_run_info "scenario=\"concurrency_sweep\""$'\n'"status=\"$status\"")
[[ $info == 1 ]] || fail "tierscope_bench_run_info is $info"
push_time=$(pushed push_time_seconds)
awk -v t="$push_time" -v now="$(date +%s)" 'BEGIN { exit !(t > now - 120 && t <= now + 1) }' ||
  fail "push_time_seconds $push_time is not within the last 2 minutes"
[[ $(pushed push_failure_time_seconds) == 0 ]] || fail "the Pushgateway recorded a failed push"
echo "pushed: requests_total by outcome, TTFT count $ttft_count, run_info{status=$status} 1, push_time_seconds $push_time"

# --- 1b. a soak run pushes too: 2 s observe-only (this script's shell), group job="tierscope-e2e-soak".
cat >"$TMP/soak.yaml" <<YAML
scenario: soak
duration: 2s
idle_tail: 0s
workload: { pids: [$$] }
sample_interval: 250ms
checkpoint_interval: 1s
listen: off
push: { url: "http://127.0.0.1:$GW_PORT", job: tierscope-e2e-soak }
YAML
rc=0
timeout 60 "$bin" soak "$TMP/soak.yaml" --out "$TMP/soak" >"$TMP/soak.out" 2>"$TMP/soak.err" || rc=$?
[[ $rc -eq 0 ]] || fail "tierscope soak exited with $rc: $(cat "$TMP/soak.err")"
grep -qi 'warning' "$TMP/soak.err" && fail "warning on a successful soak push: $(cat "$TMP/soak.err")"
[[ $(jq -r .push.ok "$TMP/soak/soak.json") == true ]] || fail "soak.json push: $(jq -c .push "$TMP/soak/soak.json")"
get "http://127.0.0.1:$GW_PORT/metrics" >"$TMP/gw-soak.prom" || fail "GET the Pushgateway's /metrics failed"
soak_group='instance="",job="tierscope-e2e-soak"'
soak_info=$(awk -v s="tierscope_bench_run_info{$soak_group,scenario=\"soak\",status=\"done\"}" '$1 == s { print $2 }' "$TMP/gw-soak.prom")
[[ $soak_info == 1 ]] || fail "no tierscope_bench_run_info{$soak_group,scenario=\"soak\",status=\"done\"} 1 on the Pushgateway"
soak_elapsed=$(awk -v s="tierscope_soak_elapsed_seconds{$soak_group}" '$1 == s { print $2 }' "$TMP/gw-soak.prom")
want_elapsed=$(jq -r .elapsed_s "$TMP/soak/soak.json")
awk -v a="$soak_elapsed" -v b="$want_elapsed" 'BEGIN { exit !(a != "" && a - b < 1e-6 && b - a < 1e-6) }' ||
  fail "pushed tierscope_soak_elapsed_seconds '$soak_elapsed' != soak.json elapsed_s $want_elapsed"
verdicts=$(awk -v g="$soak_group" 'index($0, "tierscope_soak_verdict{" g ",") == 1 && $2 == 1' "$TMP/gw-soak.prom" | wc -l)
[[ $verdicts -eq $(jq '.series | length' "$TMP/soak/soak.json") ]] ||
  fail "$verdicts current verdicts pushed, soak.json has $(jq '.series | length' "$TMP/soak/soak.json") series"
echo "soak pushed: run_info{scenario=soak,status=done} 1, elapsed $soak_elapsed s, $verdicts verdicts"

# --- 2. a closed port: a warning, push.ok false, same exit status.
kill -TERM "$GW_PID"; wait "$GW_PID" 2>/dev/null || true; GW_PID=""
out2=$TMP/out2
rc=0
timeout 90 "$bin" bench "$TMP/scenario.yaml" --out "$out2" >"$TMP/bench2.out" 2>"$TMP/bench2.err" || rc=$?
[[ $rc -eq 0 ]] || fail "tierscope bench with an unreachable Pushgateway exited with $rc: $(cat "$TMP/bench2.err")"
warnings=$(grep -c 'warning: push to the Pushgateway failed' "$TMP/bench2.err" || true)
[[ $warnings -eq 1 ]] || fail "expected one push warning, got $warnings: $(cat "$TMP/bench2.err")"
grep "warning: push" "$TMP/bench2.err" | sed 's/^/  stderr: /'
sj2=$out2/summary.json
[[ $(jq -r .push.ok "$sj2") == false && -n $(jq -r '.push.error // empty' "$sj2") ]] || fail "summary.json push: $(jq -c .push "$sj2")"
jq -r .push.error "$sj2" | grep -q "127.0.0.1:$GW_PORT/metrics/job/tierscope-e2e/instance/e2e-host/model@base64/" ||
  fail "push.error does not name the group's URL: $(jq -r .push.error "$sj2")"
[[ $(jq -r .status "$sj2") == "$status" && $(wc -l <"$out2/requests.jsonl") -eq $expected ]] ||
  fail "the run with a failed push differs: status $(jq -r .status "$sj2"), $(wc -l <"$out2/requests.jsonl") requests"
echo "PASS: pushed series equal the run's records (bench and soak); closed port: exit 0, one warning, push.ok false"
