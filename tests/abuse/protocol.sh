#!/usr/bin/env bash
# The /metrics front's protocol edges and bind errors, on the real daemon.
# Usage: protocol.sh TIERSCOPE PART
#   methods      HEAD /metrics: 200 with the headers and no body; any other
#                path (/metricsXYZ, /metrics/, /): 404; other methods: 405
#                with Allow: GET, HEAD
#   ipv6         --listen '[::1]:0' serves over IPv6 (skipped, exit 77, when
#                the host has no ::1)
#   keepalive    HTTP/1.1 scrapes reuse one connection (as a Prometheus
#                server does): no "Connection: close" on a 200, 404 or 405,
#                and curl reuses the connection for the next request; a
#                request with a body is refused (413) and its connection closed
#   bind_errors  one stderr line, exit 1, naming the cause: a port in use
#                ("address already in use"), port 80 as an unprivileged user
#                ("permission denied", skipped with a message where it cannot
#                be tried), an address not on this host (192.0.2.1)
source "$(dirname "$0")/../e2e/lib.sh"
bin=$1 part=$2
fixture_config phison-host "$TMP/config.yaml" "nvme: {health_interval: off}"

# raw REQUEST: the whole response to a raw HTTP/1.0 request (the server closes).
raw() {
  # shellcheck disable=SC2016  # expanded by the inner shell
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "%b" "$2" >&3; cat <&3' _ "$PORT" "$1" || true
}

methods() {
  start_daemon "$bin" "$TMP/config.yaml" --listen 127.0.0.1:0
  wait_samples 1
  raw 'HEAD /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >"$TMP/head"
  head -1 "$TMP/head" | grep -q '^HTTP/1\.[01] 200' || fail "HEAD /metrics: $(head -1 "$TMP/head")"
  grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/head" || fail "HEAD /metrics: no text format Content-Type"
  [[ $(sed '1,/^\r$/d' "$TMP/head" | wc -c) -eq 0 ]] || fail "HEAD /metrics: the response carries a body"
  local path code method
  for path in /metricsXYZ /metrics/ / /metrics.txt /METRICS; do
    code=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT$path" || true)
    [[ $code == 404 ]] || fail "GET $path: HTTP $code, expected 404"
    grep -q tierscope_ "$TMP/body" && fail "GET $path: the 404 carries metrics"
  done
  for method in POST PUT DELETE OPTIONS PATCH; do
    code=$(curl -s -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' --max-time 5 -X "$method" \
      "http://127.0.0.1:$PORT/metrics" || true)
    [[ $code == 405 ]] || fail "$method /metrics: HTTP $code, expected 405"
    grep -qi '^allow: GET, HEAD' "$TMP/hdr" || fail "$method /metrics: no 'Allow: GET, HEAD'"
  done
  scrape | grep -q '^tierscope_samples_total ' || fail "GET /metrics after the edge cases"
  stop_daemon
  echo "PASS: HEAD 200 without a body, other paths 404, other methods 405"
}

ipv6() {
  grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
    { echo "SKIP: this host has no ::1 (IPv6 disabled)"; exit 77; }
  LOG=$TMP/daemon6.log
  : >"$LOG"
  "$bin" daemon --config "$TMP/config.yaml" --listen '[::1]:0' 2>"$LOG" &
  DAEMON_PID=$!
  local port6=""
  for _ in $(seq 100); do
    port6=$(sed -n 's|.*listening on http://\[::1\]:\([0-9]*\)/metrics.*|\1|p' "$LOG" | head -1)
    [[ -n $port6 ]] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "--listen '[::1]:0': the daemon exited"
    sleep 0.1
  done
  [[ -n $port6 ]] || fail "--listen '[::1]:0': no 'listening on http://[::1]:PORT/metrics' line"
  curl -sSf -g --max-time 5 "http://[::1]:$port6/metrics" >"$TMP/v6.prom" || fail "no scrape over IPv6"
  grep -q '^tierscope_samples_total ' "$TMP/v6.prom" || fail "IPv6 scrape lacks tierscope_samples_total"
  curl -s --max-time 2 "http://127.0.0.1:$port6/metrics" 2>/dev/null | grep -q tierscope_ &&
    fail "[::1] listener also answers on 127.0.0.1"
  stop_daemon
  echo "PASS: serves on [::1]:$port6"
}

# expect_bind_error 'fragment' [RUNNER...] -- LISTEN: exit 1, one line naming the cause.
expect_bind_error() {
  local fragment=$1 rc=0
  shift
  local listen=${*: -1}
  "${@:1:$#-1}" timeout 5 "$bin" daemon --config "$TMP/config.yaml" --listen "$listen" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [[ $rc -eq 1 ]] || { cat "$TMP/err" >&2; fail "--listen $listen: exit $rc, expected 1"; }
  grep -qF -- "$fragment" "$TMP/err" || { cat "$TMP/err" >&2; fail "--listen $listen: stderr does not say '$fragment'"; }
  [[ $(wc -l <"$TMP/err") -eq 1 ]] || { cat "$TMP/err" >&2; fail "--listen $listen: expected one stderr line"; }
  echo "ok: --listen $listen: $(cat "$TMP/err")"
}

keepalive() {
  start_daemon "$bin" "$TMP/config.yaml" --listen 127.0.0.1:0
  wait_samples 1
  local url=http://127.0.0.1:$PORT
  curl -sv --max-time 10 -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    "$url/metrics" "$url/metrics" "$url/nothing" "$url/metrics" 2>"$TMP/trace" ||
    fail "curl over one connection failed"
  [[ $(grep -c '^< HTTP/1.1 ' "$TMP/trace") -eq 4 ]] || { cat "$TMP/trace" >&2; fail "expected 4 HTTP/1.1 responses"; }
  grep -qi '^< connection: close' "$TMP/trace" && { cat "$TMP/trace" >&2; fail "a response closes the connection"; }
  [[ $(grep -c 'Re-using existing connection' "$TMP/trace") -eq 3 ]] ||
    { cat "$TMP/trace" >&2; fail "curl did not reuse the connection for requests 2-4"; }
  [[ $(grep -c 'Connected to 127.0.0.1' "$TMP/trace") -eq 1 ]] || fail "more than one TCP connection"
  curl -sv --max-time 10 -o /dev/null -X DELETE "$url/metrics" -o /dev/null "$url/metrics" 2>"$TMP/trace405" ||
    fail "curl DELETE then GET failed"
  grep -q 'Re-using existing connection' "$TMP/trace405" || fail "a 405 closed the connection"
  local code
  code=$(curl -sv --max-time 10 -o /dev/null -w '%{http_code}' --data 'x=1' "$url/metrics" 2>"$TMP/trace413") || true
  [[ $code == 413 ]] || fail "POST with a body: HTTP $code, expected 413"
  grep -qi '^< connection: close' "$TMP/trace413" || fail "a request with a body: its connection is kept"
  stop_daemon
  echo "PASS: 4 requests over one connection, a 405 keeps it, a body gets 413 and a close"
}

# A runner that drops root for the port-80 case; "" when none can.
unprivileged_runner() {
  if [[ $(id -u) -ne 0 ]]; then echo env; return; fi
  if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    echo "setpriv --reuid=65534 --regid=65534 --clear-groups"
  elif command -v runuser >/dev/null && runuser -u nobody -- true 2>/dev/null; then
    echo "runuser -u nobody --"
  fi
}

bind_errors() {
  start_daemon "$bin" "$TMP/config.yaml" --listen 127.0.0.1:0
  expect_bind_error "address already in use" "127.0.0.1:$PORT"
  stop_daemon
  expect_bind_error "not an address of this host" 192.0.2.1:0
  local runner first
  runner=$(unprivileged_runner)
  first=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
  if [[ -z $runner ]]; then
    echo "SKIP port 80: cannot run as an unprivileged user here"
  elif ((first <= 80)); then
    echo "SKIP port 80: net.ipv4.ip_unprivileged_port_start is $first, so any user may bind it"
  else
    # The build and source trees may be private to root (a clone in a 0700
    # directory): the unprivileged user runs a copy of the daemon on a copy
    # of the fixture host, both in $TMP.
    mkdir -p "$TMP/unpriv/tests/fixtures"
    cp "$bin" "$TMP/unpriv/tierscope"
    cp -a "$TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host" "$TMP/unpriv/tests/fixtures/"
    bin=$TMP/unpriv/tierscope
    TIERSCOPE_SOURCE_DIR=$TMP/unpriv fixture_config phison-host "$TMP/config.yaml" "nvme: {health_interval: off}"
    chmod -R a+rX "$TMP"
    # shellcheck disable=SC2086  # the runner is a command and its options
    expect_bind_error "permission denied" $runner 127.0.0.1:80
    grep -q "ports below 1024" "$TMP/err" || fail "port 80: the message does not say why (ports below 1024)"
  fi
  echo "PASS: bind errors name their cause"
}

case $part in
  methods | keepalive | ipv6 | bind_errors) "$part" ;;
  *) echo "usage: $0 TIERSCOPE methods|keepalive|ipv6|bind_errors" >&2; exit 2 ;;
esac
