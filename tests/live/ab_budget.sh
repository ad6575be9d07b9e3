#!/usr/bin/env bash
# scenario: ab under two memory budgets on this host's kernel: both arms
# launch the mock engine with --kv-bytes-per-token B (it allocates n_ctx x B
# at start, {ctx} = the step's prompt + output tokens, restart per_step), arm a
# "small" under memory_max 32M, arm b "large" under 96M, no swap. The engine's
# own base is 2-4 MiB (live_bench_budget measures it), so with B = 64 KiB:
#   ctx   128:   8 MiB + base   both fit
#   ctx   640:  40 MiB + base   over 32M: a is OOM-killed at start; b fits
#   ctx  1152:  72 MiB + base   b fits (a stopped at its wall: stop_on_failure)
#   ctx  1664: 104 MiB + base   over 96M: b is OOM-killed at start
# Asserted from summary.json and comparison.json: a's wall (oom) at an
# earlier step than b's; at context 624 the OOM vs success table says a: n/n
# oom (requests not sent, the engine OOM-killed at start) and b: n/n ok;
# every request record has arm and block; the blocks ran ABBA; each arm's
# budget read back as given.
# Needs root and a memory controller; skips (77) otherwise.
source "$(dirname "$0")/../e2e/lib.sh"
bin=$(realpath "$1")
mock=$(realpath "$2")
require_root_memcg

B=65536
cat >"$TMP/ab.yaml" <<YAML
engine:
  kind: llamacpp
  launch:
    argv: [$mock, --port, "{port}", --n-ctx, "{ctx}", --kv-bytes-per-token, "$B"]
    restart: per_step
    ready_timeout: 20s
    stop_timeout: 5s
limits: {memory_max: 32M, swap_max: 0}
scenario: ab
contexts: [112, 624, 1136, 1648]
output_tokens: 16
repetitions: 2
warmup: 0
ab: {order: ABBA, blocks: 4, cooldown: 0s}
arms:
  a: {name: small}
  b: {name: large, limits: {memory_max: 96M}}
YAML
rc=0
start=$(date +%s)
timeout 120 "$bin" bench "$TMP/ab.yaml" --out "$TMP/ab" >"$TMP/ab.out" 2>&1 || rc=$?
took=$(( $(date +%s) - start ))
[[ $rc -eq 0 ]] || { cat "$TMP/ab.out" >&2; fail "bench with scenario: ab under two budgets exited $rc"; }
S=$TMP/ab/summary.json
C=$TMP/ab/comparison.json
R=$TMP/ab/requests.jsonl
for arm in a b; do
  applied=$(jq -r ".arms.$arm.limits_applied.applied.memory_max" "$S")
  want=$(jq -r ".arms.$arm.limits.memory_max" "$S")
  [[ $applied == "$want" && $applied != null ]] || fail "arm $arm: memory_max read back as $applied, asked $want: $(jq -c ".arms.$arm" "$S")"
done
wa=$(jq -r '.walls.a.context_tokens // empty' "$S")
wb=$(jq -r '.walls.b.context_tokens // empty' "$S")
[[ $(jq -r .walls.a.outcome "$S") == oom && $(jq -r .walls.b.outcome "$S") == oom ]] || fail "walls: $(jq -c .walls "$S")"
[[ -n $wa && -n $wb ]] && (( wa < wb )) || fail "a's wall ($wa) is not before b's ($wb): $(jq -c .walls "$S")"
[[ $wa == 624 && $wb == 1648 ]] || fail "walls at $wa and $wb, expected 624 (32M) and 1648 (96M) from $B B per token"
echo "ok: walls: a (32M) at context $wa, b (96M) at context $wb, both oom"

# The OOM vs success table at a context between the walls.
row=$(jq -c '.steps[] | select(.key.context_tokens == 624) | {a, b}' "$C")
[[ -n $row ]] || fail "comparison.json has no step at context 624: $(jq -c '[.steps[].key]' "$C")"
jq -e '.a.requests > 0 and .a.outcomes.oom == .a.requests and .b.requests > 0 and .b.outcomes.ok == .b.requests' <<<"$row" >/dev/null ||
  fail "at context 624 the outcomes are $row, expected a: n/n oom, b: n/n ok"
grep -q '624' "$TMP/ab/comparison.md" || fail "comparison.md has no row for context 624"
echo "ok: at context 624: $row"

jq -e 'select(.arm == null or .block == null)' "$R" >/dev/null && fail "a record without arm or block"
order=$(jq -s -r 'sort_by(.t_send) | map("\(.block)\(.arm)") | reduce .[] as $x ([]; if (.[-1] // "") == $x then . else . + [$x] end) | join(" ")' "$R")
[[ $order == "0a 1b 2b 3a" ]] || fail "blocks by send time ran as '$order', expected '0a 1b 2b 3a'"
[[ $(jq -r .ab.order_realised "$S") == ABBA ]] || fail "order_realised: $(jq -c .ab "$S")"
notsent=$(jq -s '[.[] | select(.sent == false)] | length' "$R")
(( notsent == 2 * 2 + 2 * 2 )) || fail "$notsent records not sent, expected 8 (a at 624, b at 1648: 2 blocks x 2 repetitions)"
echo "ok: every record has arm and block, blocks ran $order, $notsent requests not sent (engine OOM-killed at start)"
echo "PASS: scenario ab under memory_max 32M vs 96M: the small arm hits the wall first (${took} s)"
