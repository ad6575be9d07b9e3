#!/usr/bin/env bash
# Every outside input of the daemon is bounded, through the real binary:
#   - config files: regular files only, at most 1 MiB; a FIFO, a directory, a
#     device, an oversized file: one line on stderr, exit 78, at once (never a
#     wait, never an allocation the size of the input); a long value is quoted
#     cut to 80 bytes;
#   - the same files as a reload (SIGHUP): rejected with one log line, the
#     running config kept, memory not grown, SIGTERM still obeyed;
#   - a procfs root whose meminfo is /dev/zero and whose diskstats is a FIFO:
#     the daemon binds and serves, those two probes fail (probe_success 0), the
#     others succeed, SIGTERM stops it;
#   - /proc/diskstats with 100 000 block devices: a sample takes time linear in
#     the devices (the whole `probe` run bounded by this script's timeout).
# Usage: bounded_inputs.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
checks=0

# refused 'stderr fragment' CONFIG: `daemon --config CONFIG` exits 78 with one
# stderr line holding the fragment, within 5 s.
refused() {
  local fragment=$1 config=$2 rc=0 t0=$EPOCHREALTIME
  timeout 5 "$bin" daemon --config "$config" --listen 127.0.0.1:0 >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
  [[ $rc -eq 78 ]] || { head -c 400 "$TMP/err" >&2; fail "--config $config: exit $rc, expected 78"; }
  grep -qF -- "$fragment" "$TMP/err" || { head -c 400 "$TMP/err" >&2; fail "--config $config: stderr lacks '$fragment'"; }
  [[ $(wc -l <"$TMP/err") -eq 1 ]] || fail "--config $config: expected one stderr line"
  [[ $(wc -c <"$TMP/err") -lt 400 ]] || fail "--config $config: stderr line of $(wc -c <"$TMP/err") bytes (the input echoed?)"
  echo "refused $config in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') s: $(cat "$TMP/err")"
  checks=$((checks + 1))
}

mkfifo "$TMP/fifo.yaml"
mkdir "$TMP/dir.yaml"
refused "$TMP/fifo.yaml: cannot read the config file: not a regular file (a FIFO)" "$TMP/fifo.yaml"
refused "$TMP/dir.yaml: cannot read the config file: not a regular file (a directory)" "$TMP/dir.yaml"
refused "/dev/zero: cannot read the config file: not a regular file (a character device)" /dev/zero
refused "/dev/urandom: cannot read the config file: not a regular file (a character device)" /dev/urandom
# 100 MB in one value: refused by size, without reading it.
{ printf 'sample_interval: '; head -c 100000000 /dev/zero | tr '\0' x; echo; } >"$TMP/huge.yaml"
refused "cannot read the config file: 100000018 bytes, more than the 1048576 read at most" "$TMP/huge.yaml"
# 1 MB in one value, within the size limit: the message quotes 80 bytes of it.
{ printf 'sample_interval: '; head -c 1000000 /dev/zero | tr '\0' x; echo; } >"$TMP/long.yaml"
refused 'sample_interval: expected a duration' "$TMP/long.yaml"
grep -qE 'got "x{70,80}(…|\.\.\.)?' "$TMP/err" || fail "the long value is not quoted cut: $(head -c 300 "$TMP/err")"

# ---- the same inputs as reloads --------------------------------------------
cfg=$TMP/config.yaml
fixture_config phison-host "$cfg" "nvme: {health_interval: off}"
start_daemon "$bin" "$cfg"
wait_samples 3
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status"; }
rss_start=$(rss_kb)
n=0
for bad in fifo dir huge long; do
  cp "$cfg" "$TMP/good.yaml"
  rm -f "$cfg"
  case $bad in
    fifo) mkfifo "$cfg" ;;
    dir) mkdir "$cfg" ;;
    huge) cp "$TMP/huge.yaml" "$cfg" ;;
    long) cp "$TMP/long.yaml" "$cfg" ;;
  esac
  kill -HUP "$DAEMON_PID"
  n=$((n + 1))
  for _ in $(seq 50); do [[ $(grep -c 'reload rejected' "$LOG") -ge $n ]] && break; sleep 0.1; done
  [[ $(grep -c 'reload rejected' "$LOG") -eq $n ]] || fail "reload from a $bad config: no 'reload rejected' line within 5 s"
  line=$(grep 'reload rejected' "$LOG" | tail -1)
  [[ ${#line} -lt 400 ]] || fail "reload from a $bad config: a log line of ${#line} bytes"
  echo "reload from a $bad config: $line"
  rm -rf "$cfg"
  cp "$TMP/good.yaml" "$cfg"
  checks=$((checks + 1))
done
scrape >"$TMP/r.prom"
[[ $(value "$TMP/r.prom" 'tierscope_config_reloads_total{result="failure"}') == 4 ]] || fail "expected 4 failed reloads"
[[ $(value "$TMP/r.prom" tierscope_sample_interval_seconds) == 0.1 ]] || fail "the running config changed on a rejected reload"
rss_end=$(rss_kb)
echo "RSS ${rss_start} kB before the rejected reloads, ${rss_end} kB after"
if [[ ${TIERSCOPE_SANITIZE:-OFF} == ON ]]; then
  # ASan holds freed memory in its quarantine and free lists, so RSS says
  # nothing about what the daemon keeps; the GCC build checks it.
  echo "RSS not compared: sanitizer build"
else
  [[ $rss_end -lt $((rss_start + 8192)) ]] || fail "RSS grew from ${rss_start} kB to ${rss_end} kB over rejected reloads"
fi
stop_daemon
checks=$((checks + 1))

# ---- a procfs root with an endless device and a FIFO -----------------------
root=$TMP/root
cp -r "$TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/proc" "$root"
rm "$root/meminfo" "$root/diskstats"
ln -s /dev/zero "$root/meminfo"
mkfifo "$root/diskstats"
cat >"$TMP/hostile.yaml" <<YAML
sample_interval: 100ms
listen: 127.0.0.1:0
nvme: {health_interval: off}
roots: {procfs: $root, sysfs: $TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/sys, devfs: $TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/dev}
YAML
start_daemon "$bin" "$TMP/hostile.yaml"
wait_samples 3
scrape >"$TMP/h.prom"
for p in meminfo diskstats; do
  [[ $(value "$TMP/h.prom" "tierscope_probe_success{probe=\"$p\"}") == 0 ]] || fail "probe $p did not fail on a non-regular file"
done
for p in vmstat swaps pressure; do
  [[ $(value "$TMP/h.prom" "tierscope_probe_success{probe=\"$p\"}") == 1 ]] || fail "probe $p failed beside the hostile files"
done
grep -q 'meminfo: not a regular file' "$LOG" || fail "the meminfo failure does not name the cause"
grep -q 'diskstats: not a regular file' "$LOG" || fail "the diskstats failure does not name the cause"
stop_daemon
echo "hostile procfs root: meminfo and diskstats failed, the rest served, SIGTERM obeyed"
checks=$((checks + 1))

# ---- 100 000 block devices --------------------------------------------------
big=$TMP/big
cp -r "$TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/proc" "$big"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "   8 %d sdx%d 1 0 8 1 1 0 8 1 0 1 2 0 0 0 0 0 0\n", i, i }' >>"$big/diskstats"
cat >"$TMP/big.yaml" <<YAML
nvme: {health_interval: off}
diskstats: {device_include: "^(nvme0n1|sdx99999)$"}
roots: {procfs: $big, sysfs: $TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/sys, devfs: $TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host/dev}
YAML
t0=$EPOCHREALTIME
rc=0
timeout 40 "$bin" probe --config "$TMP/big.yaml" --interval 100ms >"$TMP/big.prom" 2>"$TMP/big.err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TMP/big.err" >&2; fail "probe over 100 000 devices: exit $rc (124: over 40 s)"; }
grep -q '^tierscope_probe_success{probe="diskstats"} 1' "$TMP/big.prom" || fail "diskstats over 100 000 devices failed"
echo "probe over 100 000 block devices (two samples): $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
checks=$((checks + 1))
echo "PASS: $checks bounded-input checks"
