#!/usr/bin/env bash
# Live accuracy check on this machine's own /proc and /sys: fio issues a known
# number of direct IOs to a loop device backed by a file, and the daemon's
# counters for that device must move by exactly fio's count and bytes.
#
# Why exact is possible: with O_DIRECT there is no page cache and no readahead
# on the loop device, so every IO fio completes is one request the block layer
# accounts on loopN. The block layer may merge adjacent requests before they
# reach the driver: a merged IO is counted in *_merged, not *_completed. So the
# invariant is completed + merged == fio's total_ios, and bytes match exactly.
# Phase 1 (psync, random offsets, one IO in flight) cannot merge: merged == 0.
# Phase 2 (libaio, sequential, 32 in flight) may merge; the sum still holds.
# The loop driver's own IO to the backing file is accounted on the backing
# filesystem's disk, not on loopN.
#
# Usage: fio_loop.sh TIERSCOPE_BINARY. Needs root, loop devices and fio; skips
# (exit 77) with a message otherwise.
source "$(dirname "$0")/../e2e/lib.sh"
bin=$1
skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root to attach a loop device"
command -v fio >/dev/null || skip "fio not installed"
command -v losetup >/dev/null || skip "losetup not installed"
[[ -e /dev/loop-control ]] || skip "no /dev/loop-control"

truncate -s 64M "$TMP/backing.img"
LOOP=$(losetup --find --show "$TMP/backing.img") || skip "cannot attach a loop device here"
dev=$(basename "$LOOP")
cleanup_live() { losetup -d "$LOOP" 2>/dev/null || true; cleanup_e2e; }
trap cleanup_live EXIT

cat >"$TMP/config.yaml" <<YAML
sample_interval: 100ms
peak_window: 60s
listen: 127.0.0.1:0
diskstats:
  device_include: '^$dev\$'
  device_exclude: ''
YAML
start_daemon "$bin" "$TMP/config.yaml"
wait_samples 3

# counters FILE -> "reads reads_merged read_bytes writes writes_merged written_bytes"
counters() {
  local f=$1 l="{device=\"$dev\"}"
  echo "$(value "$f" "tierscope_disk_reads_completed_total$l") $(value "$f" "tierscope_disk_reads_merged_total$l")" \
       "$(value "$f" "tierscope_disk_read_bytes_total$l") $(value "$f" "tierscope_disk_writes_completed_total$l")" \
       "$(value "$f" "tierscope_disk_writes_merged_total$l") $(value "$f" "tierscope_disk_written_bytes_total$l")"
}
# settled: scrape until two scrapes a few samples apart agree (fio is done and
# the daemon has sampled the final counters).
settled() {
  local prev="" cur
  for _ in $(seq 50); do
    local n
    scrape >"$TMP/s.prom"
    n=$(value "$TMP/s.prom" tierscope_samples_total)
    wait_samples $((${n%.*} + 2))
    scrape >"$TMP/s.prom"
    cur=$(counters "$TMP/s.prom")
    [[ "$cur" == "$prev" ]] && { echo "$cur"; return 0; }
    prev=$cur
  done
  fail "counters of $dev never settled"
}

# run_fio NAME ARGS... -> "read_ios read_bytes write_ios write_bytes" from fio's JSON
run_fio() {
  local name=$1; shift
  fio --name="$name" --filename="$LOOP" --direct=1 --size=64M --output-format=json "$@" >"$TMP/$name.json" \
    || fail "fio $name failed"
  jq -r '.jobs[0] | "\(.read.total_ios) \(.read.io_bytes) \(.write.total_ios) \(.write.io_bytes)"' "$TMP/$name.json"
}

check_phase() {
  local phase=$1 before=$2 after=$3 fio_counts=$4 expect_no_merge=$5
  local r0 rm0 rb0 w0 wm0 wb0 r1 rm1 rb1 w1 wm1 wb1 fr frb fw fwb
  read -r r0 rm0 rb0 w0 wm0 wb0 <<<"$before"
  read -r r1 rm1 rb1 w1 wm1 wb1 <<<"$after"
  read -r fr frb fw fwb <<<"$fio_counts"
  local dr=$((r1 - r0)) drm=$((rm1 - rm0)) drb=$((rb1 - rb0)) dw=$((w1 - w0)) dwm=$((wm1 - wm0)) dwb=$((wb1 - wb0))
  printf '%-22s fio: %6d reads %10d B %6d writes %10d B | tierscope: %6d+%-4d reads %10d B %6d+%-4d writes %10d B\n' \
    "$phase" "$fr" "$frb" "$fw" "$fwb" "$dr" "$drm" "$drb" "$dw" "$dwm" "$dwb"
  (( dr + drm == fr )) || fail "$phase: reads completed+merged $dr+$drm != fio $fr"
  (( dw + dwm == fw )) || fail "$phase: writes completed+merged $dw+$dwm != fio $fw"
  (( drb == frb )) || fail "$phase: read bytes $drb != fio $frb"
  (( dwb == fwb )) || fail "$phase: written bytes $dwb != fio $fwb"
  if [[ $expect_no_merge == 1 ]]; then (( drm == 0 && dwm == 0 )) || fail "$phase: unexpected merges"; fi
}

c0=$(settled)
# Rate-limited so that each job spans many sample intervals: the peak gauges
# are then checked against a known rate as well.
f1w=$(run_fio p1w --rw=randwrite --bs=4k --ioengine=psync --number_ios=3000 --rate_iops=2000)
f1r=$(run_fio p1r --rw=randread --bs=16k --ioengine=psync --number_ios=1500 --rate_iops=1000)
read -r _ _ w1 w1b <<<"$f1w"; read -r r1 r1b _ _ <<<"$f1r"
c1=$(settled)
check_phase "psync random 4k/16k" "$c0" "$c1" "$r1 $r1b $w1 $w1b" 1

# The peak gauges saw the rate-limited jobs: the highest 100 ms interval is
# close to the configured rate (fio paces IOs evenly; a little above it when
# an interval catches fio catching up).
scrape >"$TMP/p.prom"
for op in write:2000 read:1000; do
  peak=$(value "$TMP/p.prom" "tierscope_disk_iops_peak{device=\"$dev\",op=\"${op%:*}\"}")
  awk -v p="$peak" -v r="${op#*:}" 'BEGIN { exit !(p >= 0.8 * r && p <= 1.5 * r) }' \
    || fail "${op%:*} IOPS peak $peak not within 0.8-1.5 x fio's rate ${op#*:}"
  echo "peak ${op%:*} IOPS in the window: $peak (fio rate limit ${op#*:} IOPS)"
done

f2=$(run_fio p2 --rw=write --bs=4k --ioengine=libaio --iodepth=32 --number_ios=4096)
c2=$(settled)
check_phase "libaio seq 4k qd32" "$c1" "$c2" "$f2" 0

# The daemon's values are the kernel's: compare with /proc/diskstats directly.
read -r k_r k_rm k_rs k_w k_wm k_ws <<<"$(awk -v d="$dev" '$3 == d { print $4, $5, $6, $8, $9, $10 }' /proc/diskstats)"
[[ "$c2" == "$k_r $k_rm $((k_rs * 512)) $k_w $k_wm $((k_ws * 512))" ]] || fail "daemon '$c2' != /proc/diskstats"

stop_daemon
echo "PASS: $dev counters moved by exactly fio's IO counts and bytes"
