#!/usr/bin/env bash
# One attack on the /metrics front of the real daemon (fixture host, 100 ms
# sampling) while http_abuse's probe scrapes on a fresh connection every
# ~200 ms: every probe scrape must be answered within its 5 s limit with HTTP
# 200 and a whole metrics body, the attack must really have run, and the
# daemon must still serve and stop cleanly afterwards.
# Usage: attack.sh TIERSCOPE HTTP_ABUSE SECONDS ATTACK [ARGS...]
#   ATTACK as for http_abuse (slowloris N, idle N, noread N, keepalive N MS,
#   reset N, bigheader BYTES, bigbody BYTES), or `wrk CONNECTIONS`: wrk's
#   keep-alive load (skipped, exit 77, when wrk is not installed).
source "$(dirname "$0")/../e2e/lib.sh"
bin=$1 tool=$2 secs=$3
shift 3
attack=$1 n=${2:-}
WRK_PID=""
cleanup_attack() {
  if [[ -n $WRK_PID ]]; then kill -KILL "$WRK_PID" 2>/dev/null || true; fi
  cleanup_e2e
}
trap cleanup_attack EXIT

if [[ $attack == wrk ]] && ! command -v wrk >/dev/null; then
  echo "SKIP: wrk is not installed (Debian package wrk)"
  exit 77
fi
fixture_config phison-host "$TMP/config.yaml" "nvme: {health_interval: off}"
start_daemon "$bin" "$TMP/config.yaml" --listen 127.0.0.1:0
wait_samples 2

if [[ $attack == wrk ]]; then
  wrk -t1 -c"$n" -d"$((secs + 1))s" --timeout 5s "http://127.0.0.1:$PORT/metrics" >"$TMP/wrk.out" 2>&1 &
  WRK_PID=$!
  sleep 0.5
  set -- none
fi
rc=0
timeout $((secs + 30)) "$tool" "$PORT" "$secs" "$@" >"$TMP/probe.out" 2>"$TMP/probe.err" || rc=$?
cat "$TMP/probe.err" >&2
line=$(cat "$TMP/probe.out")
echo "$line"
[[ $rc -eq 0 || $rc -eq 1 ]] || fail "http_abuse broke (exit $rc)"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
probes=$(field probes) failed=$(field failed)
[[ $failed == 0 ]] || fail "$failed of $probes probe scrapes failed (no whole 200 within 5 s) under $attack $n"
((probes >= 3 * secs)) || fail "only $probes probe scrapes in ${secs}s under $attack"

# The attack itself happened as meant.
case $attack in
  slowloris | idle | noread)
    (($(field connects) >= n)) || fail "$attack: only $(field connects) of $n attack sockets connected" ;;
  keepalive)
    (($(field responses) >= n * (secs - 2) && $(field errors) == 0)) ||
      fail "keepalive clients: $(field responses) responses, $(field errors) errors" ;;
  reset)
    (($(field resets) == n && $(field responses) >= n / 2 - 10)) ||
      fail "resets: $(field resets) of $n done, $(field responses) after the first response bytes" ;;
  bigheader | bigbody)
    [[ $(field result) =~ ^(status:(413|431)|closed) ]] ||
      fail "$attack of $n bytes: $(field result) (expected 413/431 or the connection closed)" ;;
  none)
    wait "$WRK_PID" || true
    WRK_PID=""
    grep -q 'requests in' "$TMP/wrk.out" || { cat "$TMP/wrk.out" >&2; fail "wrk did not run"; }
    grep -E 'requests in|Requests/sec|Socket errors' "$TMP/wrk.out" ;;
esac

kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died under $attack"
scrape >"$TMP/after.prom" || fail "no scrape after $attack"
grep -q '^tierscope_samples_total ' "$TMP/after.prom" || fail "scrape after $attack lacks tierscope_samples_total"
stop_daemon
echo "PASS: $attack $n: $probes probe scrapes all answered, p99 $(field p99_ms) ms, max $(field max_ms) ms"
