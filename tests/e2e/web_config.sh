#!/usr/bin/env bash
# TLS and basic auth from a Prometheus web config file, end to end:
#   - promtool check web-config accepts the shipped example and the test's file;
#   - curl over HTTPS with the right password gets metrics (promtool-clean),
#     a wrong password or none gets 401 and no metric, plain HTTP to the TLS
#     port gets no metric;
#   - a real Prometheus server scrapes it with tls_config and basic_auth (up == 1);
#   - SIGHUP after replacing the certificate serves the new one (rotation);
#   - RequireAndVerifyClientCert: without a client certificate no metrics,
#     with one signed by client_ca_file metrics;
#   - a cert that does not match its key, a missing key file, a malformed hash,
#     an unsupported key: one line naming the problem, exit 78.
# Usage: web_config.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
for tool in openssl promtool prometheus curl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
# bcrypt of "secret" (cost 10).
HASH='$2b$10$qAYcR325YU.9hzHV8Bhhvui8rc2WI0ZCn.k9D7CduW9LGZPjYMDR6'

promtool check web-config "$TIERSCOPE_SOURCE_DIR/config/web-config.example.yml" >/dev/null \
  || fail "promtool rejects config/web-config.example.yml"

# A CA, a server certificate for 127.0.0.1 and a client certificate.
cd "$TMP"
cert() {  # NAME CN [EXT]
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out "$1.crt" \
    ${3:+-extfile <(printf '%s' "$3")} 2>/dev/null || fail "openssl: cannot sign $1"
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -subj "/CN=tierscope test CA" -days 2 -out ca.crt 2>/dev/null
cert server 127.0.0.1 "subjectAltName=IP:127.0.0.1"
cert client prometheus "extendedKeyUsage=clientAuth"
cat >web.yml <<YAML
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prometheus: $HASH
YAML
promtool check web-config web.yml >/dev/null || fail "promtool rejects the test's web config"
printf 'listen: 127.0.0.1:0\nsample_interval: 200ms\nweb_config_file: web.yml\n' >config.yaml

start_daemon "$bin" "$TMP/config.yaml"
grep -q "listening on https://127.0.0.1:$PORT/metrics (basic auth)" "$LOG" || fail "no https listening line"
url=https://127.0.0.1:$PORT/metrics
code() { curl -s -o "$TMP/body" -w '%{http_code}' --max-time 5 --cacert ca.crt "$@" || true; }
[[ $(code -u prometheus:secret "$url") == 200 ]] || fail "right password: not 200"
lint=$(promtool check metrics <"$TMP/body" 2>&1) || fail "promtool check metrics: $lint"
grep -q '^tierscope_samples_total ' "$TMP/body" || fail "no metrics over HTTPS"
for creds in prometheus:wrong nobody:secret ""; do
  c=$(code ${creds:+-u "$creds"} "$url")
  [[ $c == 401 ]] || fail "credentials '$creds': HTTP $c, expected 401"
  grep -q tierscope_ "$TMP/body" && fail "credentials '$creds': the 401 carries metrics"
done
plain=$(curl -s --max-time 3 "http://127.0.0.1:$PORT/metrics" 2>/dev/null | head -c 65536 || true)
[[ $plain == *tierscope_* ]] && fail "plain HTTP to the TLS port got metrics"

# A real Prometheus scraping over HTTPS with basic auth.
for _ in 1 2 3 4 5; do
  pport=$((20000 + RANDOM % 40000))
  cat >prometheus.yml <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: tierscope
    scheme: https
    tls_config: {ca_file: $TMP/ca.crt}
    basic_auth: {username: prometheus, password: secret}
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
YAML
  prometheus --config.file=prometheus.yml --storage.tsdb.path="$TMP/tsdb" --web.listen-address="127.0.0.1:$pport" \
    >prometheus.log 2>&1 &
  ppid=$!
  sleep 1
  kill -0 $ppid 2>/dev/null && break
done
up=""
for _ in $(seq 60); do
  up=$(curl -s "http://127.0.0.1:$pport/api/v1/query?query=up%7Bjob%3D%22tierscope%22%7D" |
    sed -n 's/.*"value":\[[0-9.]*,"\([01]\)"\].*/\1/p')
  [[ $up == 1 ]] && break
  sleep 0.5
done
n=$(curl -s "http://127.0.0.1:$pport/api/v1/query?query=count(%7B__name__%3D~%22tierscope_.%2B%22%7D)" |
  sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
kill $ppid 2>/dev/null; wait $ppid 2>/dev/null || true
[[ $up == 1 ]] || { cat prometheus.log >&2; fail "Prometheus: up{job=tierscope} is '$up' over HTTPS with basic auth"; }
[[ ${n:-0} -gt 50 ]] || fail "Prometheus stored only '${n:-0}' tierscope series"
echo "Prometheus scraped over HTTPS with basic auth: up 1, $n tierscope series"

# Rotation: a new certificate, SIGHUP, the new one is served.
serial() { openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null | openssl x509 -noout -serial; }
before=$(serial)
cert server 127.0.0.1 "subjectAltName=IP:127.0.0.1"
kill -HUP "$DAEMON_PID"
wait_log 'web config .*web.yml: TLS, basic auth on https'
after=$(serial)
[[ -n $after && $after != "$before" ]] || fail "certificate not rotated by SIGHUP ($before -> $after)"
[[ $(code -u prometheus:secret "$url") == 200 ]] || fail "after rotation: not 200"
stop_daemon

# Client certificates required.
cat >mtls.yml <<YAML
tls_server_config: {cert_file: server.crt, key_file: server.key, client_auth_type: RequireAndVerifyClientCert,
                    client_ca_file: ca.crt}
YAML
printf 'listen: 127.0.0.1:0\nweb_config_file: mtls.yml\n' >mtls.yaml
start_daemon "$bin" "$TMP/mtls.yaml"
url=https://127.0.0.1:$PORT/metrics
[[ $(code "$url") == 200 ]] && fail "no client certificate: served"
grep -q tierscope_ "$TMP/body" && fail "no client certificate: metrics in the body"
[[ $(code --cert client.crt --key client.key "$url") == 200 ]] || fail "client certificate from client_ca_file: not 200"
stop_daemon

# Broken web configs: one line, exit 78, before anything is served.
expect_78() {  # YAML WORDS
  printf '%s\n' "$1" >bad.yml
  printf 'listen: 127.0.0.1:0\nweb_config_file: bad.yml\n' >bad.yaml
  local rc=0
  timeout 10 "$bin" daemon --config "$TMP/bad.yaml" 2>err.log || rc=$?
  [[ $rc == 78 ]] || fail "web config '$1': exit $rc, expected 78: $(cat err.log)"
  [[ $(wc -l <err.log) == 1 ]] || fail "web config '$1': more than one line: $(cat err.log)"
  grep -qi -- "$2" err.log || fail "web config '$1': message lacks '$2': $(cat err.log)"
}
expect_78 "tls_server_config: {cert_file: ca.crt, key_file: server.key}" "does not match the key"
expect_78 "tls_server_config: {cert_file: server.crt, key_file: missing.key}" "missing.key: No such file"
expect_78 "basic_auth_users: {prometheus: secret}" "expected a bcrypt hash"
expect_78 "tls_server_config: {cert_file: server.crt, key_file: server.key, cipher_suites: [TLS_AES_128_GCM_SHA256]}" \
  "not by tierscope"
# The same through --web.config.file.
rc=0
timeout 10 "$bin" daemon --listen 127.0.0.1:0 --web.config.file "$TMP/bad.yml" 2>err.log || rc=$?
[[ $rc == 78 ]] || fail "--web.config.file with a bad file: exit $rc"
echo "PASS: TLS, basic auth, rotation, client certificates and broken web configs"
