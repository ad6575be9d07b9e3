#!/usr/bin/env bash
# `tierscope bench` with scenario: ab end to end (no root): two arms that
# launch the mock engine (tests/workloads/mock_engine) with different times to
# the first token (--ttft-ms 20 for a, 60 for b), blocks ABBA with no
# cooldown, a context sweep of two steps.
#   - requests.jsonl: every record carries arm and block; sorted by t_send the
#     blocks run in the order 0 1 2 3 with the arms a b b a (the interleaving
#     realised), each block's requests all before the next block's;
#   - summary.json: scenario ab, ab.order_realised ABBA, one step entry per
#     arm and step (arm, blocks of two each) whose wall_s is the sum of its
#     blocks' and the aggregate rate over it, walls of both arms null;
#     summary.csv starts with the arm column;
#   - comparison.json (also summary.json's comparison): at every step b's TTFT
#     is "slower" than a's with a ratio CI above 1, and comparison.md is what
#     the console printed;
#   - each block launched its arm's engine afresh: arm-a/engine.log and
#     arm-b/engine.log each show two starts (restart per_run: one per block).
# Usage: bench_ab.sh TIERSCOPE_BINARY MOCK_ENGINE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
mock=$(realpath "$2")
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }

cat >"$TMP/ab.yaml" <<YAML
engine:
  kind: llamacpp
  launch:
    argv: [$mock, --port, "{port}", --ttft-ms, "20", --itl-ms, "2"]
    restart: per_run
    ready_timeout: 10s
    stop_timeout: 5s
scenario: ab
contexts: [32, 64]
output_tokens: 4
warmup: 0
repetitions: 4
request_timeout: 10s
ab: {order: ABBA, blocks: 4, cooldown: 0s, seed: 3}
arms:
  a: {name: quick}
  b:
    name: slow
    engine: {launch: {argv: [$mock, --port, "{port}", --ttft-ms, "60", --itl-ms, "2"]}}
YAML
out=$TMP/out
rc=0
timeout 90 "$bin" bench "$TMP/ab.yaml" --out "$out" >"$TMP/bench.out" 2>"$TMP/bench.err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TMP/bench.out" "$TMP/bench.err" >&2; fail "bench with scenario: ab exited $rc"; }
R=$out/requests.jsonl
S=$out/summary.json
C=$out/comparison.json

# --- the records: arm and block on each, the order realised.
n=$(wc -l <"$R")
(( n == 4 * 2 * 4 )) || fail "requests.jsonl has $n lines, expected 4 blocks x 2 steps x 4 requests"
jq -e 'select((.arm != "a" and .arm != "b") or (.block | type) != "number")' "$R" >/dev/null &&
  fail "a record without arm or block: $(jq -c 'select(.arm == null or .block == null)' "$R" | head -1)"
order=$(jq -s -r 'sort_by(.t_send) | map("\(.block)\(.arm)") | reduce .[] as $x ([]; if (.[-1] // "") == $x then . else . + [$x] end) | join(" ")' "$R")
[[ $order == "0a 1b 2b 3a" ]] || fail "blocks by send time ran as '$order', expected '0a 1b 2b 3a'"
echo "ok: 32 records, each with arm and block; by send time the blocks ran $order"

# --- the summary.
[[ $(jq -r .scenario "$S") == ab ]] || fail "summary.json scenario is $(jq -r .scenario "$S")"
[[ $(jq -r .ab.order_realised "$S") == ABBA ]] || fail "order_realised: $(jq -c .ab "$S")"
[[ $(jq -r '[.steps[] | "\(.arm):\(.context_tokens):\(.requests):\(.ok):\(.blocks | length)"] | join(" ")' "$S") == \
   "a:32:8:8:2 a:64:8:8:2 b:32:8:8:2 b:64:8:8:2" ]] || fail "step entries per arm: $(jq -c '[.steps[] | {arm, context_tokens, requests, ok, blocks}]' "$S")"
# Rates over the blocks' own wall times (the time between blocks left out).
jq -e '[.steps[] | ((.wall_s - ([.blocks[].wall_s] | add)) | fabs) < 1e-9 and .wall_s > 0 and .wall_s < 5
        and ((.output_tokens_per_s_aggregate - .output_tokens / .wall_s) | fabs) < 1e-6] | all' "$S" >/dev/null ||
  fail "wall_s is not the sum of the blocks' wall times: $(jq -c '[.steps[] | {wall_s, blocks}]' "$S")"
[[ $(jq -c .walls "$S") == '{"a":null,"b":null}' ]] || fail "walls: $(jq -c .walls "$S")"
[[ $(jq -r '.arms.a.name + "/" + .arms.b.name' "$S") == quick/slow ]] || fail "arms: $(jq -c .arms "$S")"
head -1 "$out/summary.csv" | grep -q '^arm,step,context_tokens,' || fail "summary.csv header: $(head -1 "$out/summary.csv")"
# Each block launched its own engines: the arm's engine.log holds one start per block.
for arm in a b; do
  starts=$(grep -c '^listening on' "$out/arm-$arm/engine.log" || true)
  [[ $starts == 2 ]] || fail "arm $arm: $starts engine starts in engine.log, expected 2 (one per block)"
done
echo "ok: summary.json per arm and step, order ABBA realised, each block launched its arm's engine"

# --- the comparison: b (60 ms to the first token) slower than a (20 ms).
[[ -s $C && -s $out/comparison.md ]] || fail "comparison.json or comparison.md missing"
jq -e --slurpfile c "$C" '.comparison == $c[0]' "$S" >/dev/null || fail "summary.json's comparison differs from comparison.json"
steps=$(jq '.steps | length' "$C")
[[ $steps == 2 ]] || fail "comparison has $steps steps: $(jq -c '[.steps[].key]' "$C")"
for i in 0 1; do
  m=$(jq -c ".steps[$i].metrics.ttft_ms | {word, verdict, ratio}" "$C")
  jq -e ".steps[$i].metrics.ttft_ms | .word == \"slower\" and .ratio.low > 1" "$C" >/dev/null ||
    fail "step $i: b's TTFT is not slower than a's with a CI above 1: $m"
  echo "ok: step $(jq -c ".steps[$i].key" "$C"): ttft $m"
done
grep -qF "$(head -1 "$out/comparison.md")" "$TMP/bench.out" || fail "the console does not show comparison.md"
echo "PASS: scenario ab interleaves the arms ABBA and finds the slower arm slower"
