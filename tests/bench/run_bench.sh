#!/usr/bin/env bash
# tierscope benchmark harness: prints figures, asserts no timing.
#
#   run_bench.sh TIERSCOPE BENCH_SAMPLE [BENCH_SCRAPE]
#
# 1. bench_sample: CPU per full host sample, raw file reads, parse only,
#    scrape rendering in process.
# 2. /metrics CPU per scrape (server side: utime+stime delta of
#    /proc/<pid>/stat over N sequential scrapes) and VmRSS, for the tierscope
#    daemon and, when installed, prometheus-node-exporter with its default
#    collectors and with a reduced set close to tierscope's.
# 3. CPU share of `tierscope daemon` sampling at 10 Hz with no scrapes.
# Then one summary table. Builds nothing; only talks to 127.0.0.1; stops every
# process it started. Exit status: 0 when every tierscope figure was measured
# (whatever its value), 1 when the harness broke, 2 on bad usage.
#
# Environment (defaults): BENCH_SAMPLES (20000) samples for bench_sample,
# BENCH_MIN_SCRAPES (500) and BENCH_MIN_SECONDS (3) per scrape row,
# BENCH_HZ_SECONDS (30) for the 10 Hz row, BENCH_NODE_EXPORTER
# (/usr/bin/prometheus-node-exporter), BENCH_DEADLINE (175) seconds in all.

set -u -o pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 TIERSCOPE BENCH_SAMPLE [BENCH_SCRAPE]" >&2
  exit 2
fi
TS=$1
BS=$2
SC=${3:-}
for b in "$TS" "$BS" ${SC:+"$SC"}; do
  if [[ ! -x $b ]]; then
    echo "run_bench.sh: $b is not an executable" >&2
    exit 2
  fi
done
SAMPLES=${BENCH_SAMPLES:-20000}
MIN_SCRAPES=${BENCH_MIN_SCRAPES:-500}
MIN_SECONDS=${BENCH_MIN_SECONDS:-3}
HZ_SECONDS=${BENCH_HZ_SECONDS:-30}
NE=${BENCH_NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
DEADLINE=${BENCH_DEADLINE:-175}
CURL=$(command -v curl || true)
TCK=$(getconf CLK_TCK)

# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh" bench

# A watchdog so a hung step cannot hold the run past the deadline. Long steps
# run in the background and are waited for, so the TERM trap fires at once.
(
  trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$DEADLINE" &
  sp=$!
  wait "$sp" && { echo "run_bench.sh: deadline of ${DEADLINE}s passed, giving up" >&2; kill -TERM $$; }
) &
PIDS+=($!)
# run_bounded SECONDS CMD...: runs CMD with a time limit; its exit status.
run_bounded() {
  local secs=$1 p
  shift
  timeout "$secs" "$@" &
  p=$!
  PIDS+=("$p")
  wait "$p"
}
pause() {
  local p
  sleep "$1" &
  p=$!
  PIDS+=("$p")
  wait "$p"
}

kv() { awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null; }
# utime + stime of a process, in clock ticks (fields 14 and 15 of proc(5)).
ticks() {
  local stat rest
  read -r stat <"/proc/$1/stat" || return 1
  rest=${stat##*) }
  # shellcheck disable=SC2086
  set -- $rest
  echo $((${12} + ${13}))
}
# Sum of the run time of its threads, ns (finer than ticks; a cross-check).
sched_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
# VmRSS split as `top` cannot show it: anonymous memory (heap, stacks: the
# process's own) and file-backed pages (the executable and shared libraries).
rss_split() {
  awk '$1 == "VmRSS:" { print "vmrss_kb", $2 } $1 == "RssAnon:" { print "rss_anon_kb", $2 }
       $1 == "RssFile:" { print "rss_file_kb", $2 } $1 == "RssShmem:" { print "rss_shmem_kb", $2 }' "/proc/$1/status" 2>/dev/null
}
now_s() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== tierscope benchmark on $(uname -n) (Linux $(uname -r), $(nproc) CPUs, load $(loadavg)) =="
echo "tierscope:    $TS"
echo "bench_sample: $BS"
echo "scrapes with: ${SC:-curl(1) loop (bench_scrape not built)}"
if awk -v n="$(nproc)" '{ exit !($1 > 0.5 * n) }' /proc/loadavg; then
  echo "NOTE: the machine is busy (load $(loadavg)); figures will be noisier and higher than on an idle host"
fi

# ---------------------------------------------------------------------------
echo
echo "== 1. full host sample, raw reads, parse only, rendering (bench_sample) =="
if ! run_bounded 150 "$BS" --samples "$SAMPLES" --figures "$work/sample.fig"; then
  broken+=("bench_sample failed")
fi

# ---------------------------------------------------------------------------
# Starts `tierscope daemon` with config file $1; sets TS_PID and TS_URL.
start_tierscope() {
  local cfg=$1 log=$work/tierscope.$RANDOM.log i
  TS_PID='' TS_URL=''
  : >"$log"
  "$TS" daemon --config "$cfg" --listen 127.0.0.1:0 2>"$log" &
  TS_PID=$!
  PIDS+=("$TS_PID")
  for i in $(seq 100); do
    TS_URL=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*/metrics' "$log" | head -1 | sed 's/^listening on //')
    [[ -n $TS_URL ]] && return 0
    kill -0 "$TS_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "tierscope daemon did not start; its log:" >&2
  sed 's/^/  | /' "$log" >&2
  stop_pid "$TS_PID"
  return 1
}

# Starts node_exporter on a free 127.0.0.1 port with extra args; sets NE_PID, NE_URL.
start_node_exporter() {
  local log=$work/node_exporter.$RANDOM.log port i
  NE_PID='' NE_URL=''
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if command -v ss >/dev/null && [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then continue; fi
    "$NE" --web.listen-address="127.0.0.1:$port" "$@" >"$log" 2>&1 &
    NE_PID=$!
    PIDS+=("$NE_PID")
    for i in $(seq 100); do
      kill -0 "$NE_PID" 2>/dev/null || break
      if grep -q 'Listening on' "$log"; then
        NE_URL="http://127.0.0.1:$port/metrics"
        return 0
      fi
      sleep 0.1
    done
    stop_pid "$NE_PID"
    grep -qi 'address already in use' "$log" || break
  done
  echo "node_exporter did not start; its log:" >&2
  sed 's/^/  | /' "$log" | tail -20 >&2
  return 1
}

# Scrapes $3 sequentially and writes "key value" figures of server $2 to $work/$1.scrape.
measure_scrapes() {
  local name=$1 pid=$2 url=$3 out=$work/$1.scrape
  if [[ -n $SC ]]; then
    run_bounded 120 "$SC" --url "$url" --pid "$pid" --min-scrapes "$MIN_SCRAPES" --min-seconds "$MIN_SECONDS" \
      --max-seconds 60 >"$out" || return 1
  else
    [[ -n $CURL ]] || { echo "neither bench_scrape nor curl(1) available" >&2; return 1; }
    local i t0 t1 s0 s1 w0 w1 body code
    read -r code body < <("$CURL" -s --noproxy '*' -o /dev/null -w '%{http_code} %{size_download}\n' "$url")
    [[ $code == 200 ]] || { echo "$url: HTTP $code" >&2; return 1; }
    t0=$(ticks "$pid") s0=$(sched_ns "$pid") w0=$(now_s)
    for ((i = 0; i < MIN_SCRAPES; i++)); do
      "$CURL" -s --noproxy '*' -o /dev/null -w '%{http_code}\n' "$url" | grep -qx 200 || return 1
    done
    t1=$(ticks "$pid") s1=$(sched_ns "$pid") w1=$(now_s)
    {
      echo "scrapes $MIN_SCRAPES"
      echo "wall_s $(calc %.3f "$w1 - $w0")"
      echo "server_cpu_ticks $((t1 - t0))"
      echo "server_cpu_ms_per_scrape $(calc %.4f "($t1 - $t0) / $TCK * 1000 / $MIN_SCRAPES")"
      echo "server_schedstat_ms_per_scrape $(calc %.4f "($s1 - $s0) / 1e6 / $MIN_SCRAPES")"
      echo "connections $MIN_SCRAPES"
      echo "rss_kb $(rss_kb "$pid")"
      echo "body_bytes $body"
    } >"$out"
  fi
  printf '  %-28s %6s scrapes in %6ss: server CPU %8s ms/scrape (%s ticks; schedstat %s ms), RSS %s kB, body %s bytes, %s new connections%s\n' \
    "$name" "$(kv "$out" scrapes)" "$(kv "$out" wall_s)" "$(kv "$out" server_cpu_ms_per_scrape)" \
    "$(kv "$out" server_cpu_ticks)" "$(kv "$out" server_schedstat_ms_per_scrape)" "$(kv "$out" rss_kb)" \
    "$(kv "$out" body_bytes)" "$(kv "$out" connections)" \
    "$( [[ $(kv "$out" keep_alive) == 0 ]] && echo " (server closes the connection after each response)")"
}

echo
echo "== 2. /metrics CPU per scrape and RSS, sequential scrapes from a separate process =="
printf 'listen: 127.0.0.1:0\n' >"$work/scrape.yaml"  # default 1 s sampling
if start_tierscope "$work/scrape.yaml"; then
  sleep 1
  measure_scrapes tierscope "$TS_PID" "$TS_URL" || broken+=("no scrape figure for tierscope")
  rss_split "$TS_PID" >"$work/tierscope.rss"
  f=$work/tierscope.rss
  echo "  tierscope daemon (default config) after the scrapes: VmRSS $(kv "$f" vmrss_kb) kB =" \
    "RssAnon $(kv "$f" rss_anon_kb) kB + RssFile $(kv "$f" rss_file_kb) kB + RssShmem $(kv "$f" rss_shmem_kb) kB"
  [[ -n $(kv "$f" rss_anon_kb) ]] || broken+=("no RssAnon/RssFile figure for tierscope")
  stop_pid "$TS_PID"
else
  broken+=("tierscope daemon did not start (scrape test)")
fi

ne_rows=()
if [[ ! -x $NE ]]; then
  echo "  SKIP node_exporter rows: $NE is not installed (set BENCH_NODE_EXPORTER to compare)"
else
  echo "  node_exporter: $("$NE" --version 2>&1 | head -1)"
  reduced=(--collector.disable-defaults --collector.meminfo --collector.vmstat --collector.pressure
           --collector.diskstats --collector.nvme)
  for row in ne_default ne_reduced; do
    if [[ $row == ne_default ]]; then args=(); else args=("${reduced[@]}"); fi
    if start_node_exporter "${args[@]}"; then
      sleep 1
      if measure_scrapes "$row" "$NE_PID" "$NE_URL"; then
        ne_rows+=("$row")
      else
        echo "  SKIP $row: scraping node_exporter failed"
      fi
      stop_pid "$NE_PID"
    else
      echo "  SKIP $row: node_exporter did not start"
    fi
  done
fi

# ---------------------------------------------------------------------------
echo
echo "== 3. tierscope daemon sampling at 10 Hz, no scrapes, ${HZ_SECONDS}s =="
printf 'sample_interval: 100ms\nlisten: 127.0.0.1:0\n' >"$work/10hz.yaml"
hz_pct='' hz_sched_pct='' hz_rate='' hz_rss='' hz_overruns=''
samples_total() {
  [[ -n $CURL ]] || return 0
  "$CURL" -s --noproxy '*' "$1" | awk '$1 == "tierscope_samples_total" { print $2 } $1 == "tierscope_sample_overruns_total" { o = $2 } END { print o }' | paste -sd' '
}
if start_tierscope "$work/10hz.yaml"; then
  sleep 2
  read -r n0 o0 <<<"$(samples_total "$TS_URL")"
  t0=$(ticks "$TS_PID") s0=$(sched_ns "$TS_PID") w0=$(now_s)
  pause "$HZ_SECONDS"
  t1=$(ticks "$TS_PID") s1=$(sched_ns "$TS_PID") w1=$(now_s)
  read -r n1 o1 <<<"$(samples_total "$TS_URL")"
  hz_rss=$(rss_kb "$TS_PID")
  if [[ -n $t0 && -n $t1 ]] && kill -0 "$TS_PID" 2>/dev/null; then
    wall=$(calc %.3f "$w1 - $w0")
    hz_pct=$(calc %.4f "($t1 - $t0) / $TCK / $wall * 100")
    [[ -n $s0 && -n $s1 && $s1 -gt 0 ]] && hz_sched_pct=$(calc %.4f "($s1 - $s0) / 1e9 / $wall * 100")
    if [[ -n ${n0:-} && -n ${n1:-} ]]; then
      hz_rate=$(calc %.2f "($n1 - $n0) / $wall")
      hz_overruns=$(calc %.0f "${o1:-0} - ${o0:-0}")
    fi
    echo "  ${wall}s wall: $((t1 - t0)) ticks of CPU (CLK_TCK $TCK) = ${hz_pct} % of one core" \
      "(schedstat: ${hz_sched_pct:-n/a} %); samples/s ${hz_rate:-n/a} (overruns ${hz_overruns:-n/a}); RSS ${hz_rss} kB"
  else
    broken+=("no 10 Hz figure (daemon exited or /proc unreadable)")
  fi
  stop_pid "$TS_PID"
else
  broken+=("tierscope daemon did not start (10 Hz test)")
fi

# ---------------------------------------------------------------------------
# Summary: measured, target, ratio. Never a pass/fail on a figure.
row() {  # label value unit target
  local label=$1 value=$2 unit=$3 target=${4:-}
  if [[ -z $value ]]; then
    printf '  %-52s %12s\n' "$label" "n/a"
  elif [[ -z $target ]]; then
    printf '  %-52s %9s %-3s\n' "$label" "$value" "$unit"
  else
    local ratio verdict
    ratio=$(calc %.2f "$value / $target")
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1 ? "within" : "OVER") }')
    printf '  %-52s %9s %-3s %8s %-3s %6sx  %s\n' "$label" "$value" "$unit" "$target" "$unit" "$ratio" "$verdict"
  fi
}
fmt() { [[ -n $2 ]] && calc "$1" "$2"; }
mb() { [[ -n $1 ]] && calc %.1f "$1 * 1024 / 1e6"; }
sf=$work/sample.fig

echo
echo "================================ SUMMARY ================================"
echo "  host $(uname -n), Linux $(uname -r), $(nproc) CPUs, load now $(loadavg)"
printf '  %-52s %13s %12s %7s\n' "figure" "measured" "target" "ratio"
echo "  -- 1. host sample (bench_sample, in process, live /proc and /sys)"
row "CPU per full host sample (defaults)" "$(fmt %.1f "$(kv "$sf" sample_cpu_us)")" us 60
row "  same, paced 100 ms apart (cold caches, as daemon)" "$(fmt %.1f "$(kv "$sf" sample_cpu_paced_us)")" us 60
row "  same, ring of a 10 Hz daemon (100 ms / 15 s)" "$(fmt %.1f "$(kv "$sf" sample_cpu_10hz_us)")" us 60
row "  same, ring ~$(fmt %.0f "$(kv "$sf" maxring_intervals)") (config maxima 100 ms / 600 s)" \
  "$(fmt %.1f "$(kv "$sf" sample_cpu_maxring_us)")" us 60
row "  sum of the probes' own durations (wall)" "$(fmt %.1f "$(kv "$sf" probes_sum_us)")" us
row "  reading the files: open+read+close each" "$(fmt %.1f "$(kv "$sf" read_orc_total_us)")" us
row "  reading the files: pread on kept fds (FileCache)" "$(fmt %.1f "$(kv "$sf" read_pread_total_us)")" us
row "  same preads, paced 100 ms apart (cold caches)" "$(fmt %.1f "$(kv "$sf" read_pread_paced_us)")" us
row "  parsing alone, all parsers, text in memory" "$(fmt %.2f "$(kv "$sf" parse_total_us)")" us
row "  heap allocations per sample" "$(fmt %.0f "$(kv "$sf" sample_allocs)")" ""
row "scrape rendering in process (collect_all + text)" "$(fmt %.1f "$(kv "$sf" render_us)")" us 500
echo "  -- 2. /metrics over HTTP, server-side CPU (utime+stime) per scrape, RSS after"
label_of() {
  case $1 in
    tierscope) echo "tierscope daemon" ;;
    ne_default) echo "node_exporter (default collectors)" ;;
    ne_reduced) echo "node_exporter (reduced set*)" ;;
  esac
}
ts_cpu=$(kv "$work/tierscope.scrape" server_cpu_ms_per_scrape)
for r in tierscope "${ne_rows[@]}"; do
  f=$work/$r.scrape
  [[ -s $f ]] || { [[ $r == tierscope ]] && row "$(label_of "$r"): CPU per scrape" "" ms; continue; }
  cpu=$(kv "$f" server_cpu_ms_per_scrape)
  if [[ $r == tierscope ]]; then
    row "$(label_of "$r"): CPU per scrape" "$(fmt %.3f "$cpu")" ms 0.5
    row "$(label_of "$r"): RSS (VmRSS)" "$(mb "$(kv "$f" rss_kb)")" MB 10
    row "  RssAnon (heap, stacks)" "$(mb "$(kv "$work/tierscope.rss" rss_anon_kb)")" MB
    row "  RssFile (executable, shared libraries)" "$(mb "$(kv "$work/tierscope.rss" rss_file_kb)")" MB
  else
    row "$(label_of "$r"): CPU per scrape" "$(fmt %.3f "$cpu")" ms
    row "$(label_of "$r"): RSS (VmRSS)" "$(mb "$(kv "$f" rss_kb)")" MB
    if [[ -n $ts_cpu ]] && awk -v t="$ts_cpu" 'BEGIN { exit !(t > 0) }'; then
      row "  CPU per scrape, node_exporter / tierscope" "$(calc %.1f "$cpu / $ts_cpu")" x
    fi
  fi
  row "  body of one scrape" "$(fmt %.1f "$(calc %.3f "$(kv "$f" body_bytes) / 1000")")" kB
done
if [[ ! -x $NE ]]; then
  echo "  (node_exporter rows skipped: $NE not installed)"
elif [[ " ${ne_rows[*]} " == *" ne_reduced "* ]]; then
  echo "  * --collector.disable-defaults + meminfo vmstat pressure diskstats nvme"
fi
echo "  -- 3. tierscope daemon at 10 Hz, no scrapes, ${HZ_SECONDS}s"
row "CPU share at 10 Hz sampling (% of one core)" "$hz_pct" % 0.5
row "  samples per second actually taken" "$hz_rate" /s
hz_tick=''
[[ -n $hz_pct && -n $hz_rate ]] && awk -v r="$hz_rate" 'BEGIN { exit !(r > 0) }' &&
  hz_tick=$(calc %.0f "$hz_pct / 100 / $hz_rate * 1e6")
row "  CPU per tick in the daemon (share / rate)" "$hz_tick" us
row "  RSS (VmRSS) at 10 Hz" "$(mb "$hz_rss")" MB 10
echo "========================================================================="
echo "  figures only: 'OVER' marks a figure above its target; it never fails the run."

if ((${#broken[@]})); then
  echo
  for b in "${broken[@]}"; do echo "HARNESS BROKEN: $b" >&2; done
  exit 1
fi
exit 0
