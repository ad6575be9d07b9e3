#!/usr/bin/env bash
# The /metrics front under abuse: scrape latency of a third client while
# hostile clients hold connections. Prints figures, asserts no timing.
#
#   bench_http_abuse.sh TIERSCOPE [BEFORE_TIERSCOPE]
#
# For each attack, a fresh `TIERSCOPE daemon` (host roots, sample_interval
# 100ms, 127.0.0.1:0) is attacked for ABUSE_SECONDS while http_abuse's probe
# scrapes /metrics on a new connection every ~200 ms (5 s limit each); the
# table gives the probe's p50, p99 and max latency and failed/total. With a
# second binary, the same runs against it make a "before" column.
# Attacks: none (baseline), 500 slowloris sockets, 200 idle connections,
# 2 clients pipelining GETs that never read, wrk -c200 keep-alive, and an
# HA pair (2 keep-alive clients scraping once a second) with the probe as
# the third client. Goals: p50 <= 50 ms and p99 <= 1000 ms under each
# attack; OVER marks a miss and never fails the run.
#
# Environment: ABUSE_SECONDS (20) per attack; HTTP_ABUSE (the http_abuse
# executable; default: http_abuse beside TIERSCOPE, as in a build tree);
# ABUSE_WRK (wrk; its row is skipped when absent). Exit status: 0 when every
# row was measured (whatever the figures), 1 when the harness broke, 2 on bad
# usage. Only 127.0.0.1; every process started is stopped on exit.

set -u -o pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 TIERSCOPE [BEFORE_TIERSCOPE]" >&2
  exit 2
fi
AFTER=$1 BEFORE=${2:-}
SECS=${ABUSE_SECONDS:-20}
TOOL=${HTTP_ABUSE:-$(dirname "$AFTER")/http_abuse}
WRK=${ABUSE_WRK:-$(command -v wrk || true)}
for b in "$AFTER" ${BEFORE:+"$BEFORE"} "$TOOL"; do
  [[ -x $b ]] || { echo "bench_http_abuse.sh: $b is not an executable" >&2; exit 2; }
done

# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh" abuse

printf 'sample_interval: 100ms\nlisten: 127.0.0.1:0\n' >"$work/config.yaml"

# start BIN: a daemon on a free port; sets DPID and DPORT.
start() {
  local log=$work/daemon.$RANDOM.log
  DPORT=''
  : >"$log"
  "$1" daemon --config "$work/config.yaml" --listen 127.0.0.1:0 2>"$log" &
  DPID=$!
  PIDS+=("$DPID")
  for _ in $(seq 100); do
    DPORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$log" | head -1)
    [[ -n $DPORT ]] && return 0
    kill -0 "$DPID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$1 did not start; its log:" >&2
  sed 's/^/  | /' "$log" >&2
  return 1
}

ATTACKS=("baseline (no attack)|none" "500 slowloris sockets|slowloris 500" "200 idle connections|idle 200"
         "2 clients that never read|noread 2" "wrk -c200 keep-alive|wrk 200"
         "HA pair + third client|keepalive 2 1000")

# measure WHICH BIN ATTACK...: one row's figures into $work/WHICH.N.
measure() {
  local which=$1 bin=$2 n=$3
  shift 3
  local out=$work/$which.$n wrk_pid=''
  start "$bin" || { broken+=("$bin did not start"); return 1; }
  sleep 1
  if [[ $1 == wrk ]]; then
    "$WRK" -t1 -c"$2" -d"$((SECS + 2))s" --timeout 5s "http://127.0.0.1:$DPORT/metrics" >"$out.wrk" 2>&1 &
    wrk_pid=$!
    PIDS+=("$wrk_pid")
    sleep 0.5
    set -- none
  fi
  local rc=0
  timeout $((SECS + 40)) "$TOOL" "$DPORT" "$SECS" "$@" >"$out" 2>"$out.err" || rc=$?
  if [[ -n $wrk_pid ]]; then
    wait "$wrk_pid" 2>/dev/null  # ends on its own (-d), and prints its summary
    echo "  $which: wrk: $(grep -E "requests in|Requests/sec|Socket errors|Non-2xx" "$out.wrk" | tr -s " " | paste -sd";")"
  fi
  stop_pid "$DPID"
  if ((rc > 1)) || ! grep -q ' probes=' "$out"; then
    broken+=("http_abuse exit $rc for $which row $n: $(head -c 300 "$out.err")")
    return 1
  fi
  echo "  $which: $(cat "$out")"
}

f() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $(cat "$1" 2>/dev/null)"; }
# cell FILE: "p50 p99 max failed/total" with OVER marks.
cells() {
  local file=$1
  [[ -s $file ]] || { printf '%8s %8s %8s %12s' n/a n/a n/a n/a; return; }
  local p50 p99 mx mark50='' mark99=''
  p50=$(f "$file" p50_ms) p99=$(f "$file" p99_ms) mx=$(f "$file" max_ms)
  awk -v v="$p50" 'BEGIN { exit !(v > 50) }' && mark50='!'
  awk -v v="$p99" 'BEGIN { exit !(v > 1000) }' && mark99='!'
  printf '%8s %8s %8s %12s' "$p50$mark50" "$p99$mark99" "$mx" "$(f "$file" failed)/$(f "$file" probes)"
}

echo "== /metrics under abuse on $(uname -n) ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)), ${SECS}s per attack =="
echo "after:  $AFTER"
[[ -n $BEFORE ]] && echo "before: $BEFORE"
for which in after before; do
  bin=$AFTER
  [[ $which == before ]] && { [[ -n $BEFORE ]] || continue; bin=$BEFORE; }
  for i in "${!ATTACKS[@]}"; do
    read -r -a args <<<"${ATTACKS[$i]#*|}"
    if [[ ${args[0]} == wrk && -z $WRK ]]; then echo "  SKIP wrk row: wrk is not installed"; continue; fi
    measure "$which" "$bin" "$i" "${args[@]}"
  done
done

echo
echo "=================================== SUMMARY ==================================="
echo "  probe: GET /metrics on a new connection every ~200 ms, 5 s limit; ${SECS}s per attack"
header=$(printf '%8s %8s %8s %12s' "p50 ms" "p99 ms" "max ms" "failed/total")
printf '  %-28s | %s' attack "$header"
[[ -n $BEFORE ]] && printf ' || before: %s' "$header"
echo
over=0
for i in "${!ATTACKS[@]}"; do
  row=$(cells "$work/after.$i")
  printf '  %-28s | %s' "${ATTACKS[$i]%%|*}" "$row"
  [[ -n $BEFORE ]] && printf ' ||         %s' "$(cells "$work/before.$i")"
  [[ $row == *'!'* ]] && { printf '  OVER'; over=1; }
  echo
done
echo "==============================================================================="
echo "  goals: p50 <= 50 ms, p99 <= 1000 ms under each attack; '!' marks a figure over its goal"
echo "  and OVER a row of the first column with one; figures only, they never fail the run."
((over)) && echo "  OVER: at least one figure of $AFTER is above its goal"

if ((${#broken[@]})); then
  for b in "${broken[@]}"; do echo "HARNESS BROKEN: $b" >&2; done
  exit 1
fi
exit 0
