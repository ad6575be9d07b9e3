#!/usr/bin/env bash
# `tierscope compare` end to end: two real `tierscope bench` runs of the same
# context sweep against two mock engines (tests/workloads/mock_engine) on
# 127.0.0.1, one answering its first token after 20 ms and the other after
# 40 ms; `tierscope compare` says B is slower in TTFT with a ratio near 2
# (the client's own constant overhead, the same in both, pulls it a little
# below 2) whose interval excludes 1, writes comparison.json and .md, and
# prints the OOM vs success table. A third run with other steps is refused
# with exit 64 and the reason; a directory without requests gives 65.
# Usage: compare.sh TIERSCOPE_BINARY MOCK_ENGINE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
mock=$2
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }

MOCK_PIDS=()
cleanup_compare() {
  stop_pids "${MOCK_PIDS[@]}"
  cleanup_e2e
}
trap cleanup_compare EXIT

# bench NAME TTFT_MS CONTEXTS: one run against its own mock engine.
bench() {
  local name=$1 ttft=$2 contexts=$3
  start_mock_engine "$mock" --ttft-ms "$ttft" --itl-ms 2 --flavor vllm
  MOCK_PIDS+=("$MOCK_PID")
  cat >"$TMP/$name.yaml" <<YAML
engine: { kind: vllm, url: http://127.0.0.1:$MOCK_PORT, model: mock-model, api: completions }
scenario: context_sweep
contexts: $contexts
output_tokens: 4
warmup: 1
repetitions: 12
request_timeout: 10s
run_deadline: 60s
YAML
  "$bin" bench "$TMP/$name.yaml" --out "$TMP/$name" >"$TMP/$name.out" 2>"$TMP/$name.err" ||
    fail "bench $name: exit $? $(cat "$TMP/$name.err")"
}

bench fast 20 "[16, 32]"
bench slow 40 "[16, 32]"
bench other 20 "[16, 64]"

"$bin" compare "$TMP/fast" "$TMP/slow" --out "$TMP/cmp" --seed 3 >"$TMP/cmp.out" 2>"$TMP/cmp.err" ||
  fail "compare: exit $? $(cat "$TMP/cmp.err")"
json=$TMP/cmp/comparison.json
[[ -f $json && -f $TMP/cmp/comparison.md ]] || fail "comparison.json or comparison.md missing"
[[ $(jq '.steps | length' "$json") == 2 ]] || fail "expected 2 steps: $(jq -c '.steps[].key' "$json")"
[[ $(jq '.bootstrap.seed' "$json") == 3 ]] || fail "seed not recorded"
for i in 0 1; do
  m=".steps[$i].metrics.ttft_ms"
  [[ $(jq -r "$m.word" "$json") == slower ]] || fail "step $i: TTFT not slower: $(jq -c "$m" "$json")"
  jq -e "$m.ratio.value > 1.7 and $m.ratio.value < 2.1 and $m.ratio.low > 1.5 and $m.ratio.low <= $m.ratio.value and $m.ratio.high >= $m.ratio.value" "$json" >/dev/null ||
    fail "step $i: TTFT ratio not near 2: $(jq -c "$m.ratio" "$json")"
  [[ $(jq -r ".steps[$i].a.outcomes.ok" "$json") == 12 ]] || fail "step $i: expected 12 ok requests in A"
  [[ $(jq -r ".steps[$i].unit" "$json") == requests ]] || fail "step $i: unit not requests"
done
grep -q '### Outcomes (OOM vs success)' "$TMP/cmp.out" || fail "the table was not printed"
grep -q '| 16 context | 12/12 ok | 12/12 ok | .*× slower TTFT \[' "$TMP/cmp.out" || fail "headline row missing: $(cat "$TMP/cmp.out")"
echo "ok: $(jq -r '.steps[0].headline' "$json")"

set +e
"$bin" compare "$TMP/fast" "$TMP/other" --out "$TMP/cmp2" >/dev/null 2>"$TMP/cmp2.err"
rc=$?
set -e
[[ $rc == 64 ]] || fail "different steps: expected exit 64, got $rc"
grep -q "the runs' steps differ" "$TMP/cmp2.err" || fail "no reason given: $(cat "$TMP/cmp2.err")"
[[ ! -e $TMP/cmp2 ]] || fail "a refused comparison wrote $TMP/cmp2"

mkdir -p "$TMP/empty"
set +e
"$bin" compare "$TMP/fast" "$TMP/empty" --out "$TMP/cmp3" >/dev/null 2>"$TMP/cmp3.err"
rc=$?
set -e
[[ $rc == 65 ]] || fail "no requests: expected exit 65, got $rc ($(cat "$TMP/cmp3.err"))"
echo "ok: compare refuses other steps (64) and a run without requests (65)"
