#!/usr/bin/env bash
# System test: tierscope on a real kernel NVMe driver, under QEMU (TCG, no KVM
# needed). The guest runs Debian's own kernel (the package linux-image-amd64
# depends on, fetched with apt-get download and unpacked, never installed on
# this host) with nvme-core.ko/nvme.ko loaded from a busybox initramfs, and
# QEMU's emulated NVMe controller (hw/nvme) in front of a sparse raw image.
# Inside the guest, as root, tierscope probe reads the guest's /proc, /sys
# and /dev; coreutils dd then writes a known amount with O_DIRECT and
# tierscope probes again. The host checks:
#   - identity from sysfs: PCI vendor 0x1b36 (Red Hat, QEMU's devices), model
#     "QEMU NVMe Ctrl", the serial given to -device nvme, state live, capacity;
#   - the offload verdict: with offload_device auto the QEMU controller is not
#     Phison (phison="false", no tierscope_offload_device_info); named in
#     offload_device it is role="configured" and still phison="false" (the
#     label says only what the PCI vendor and subsystem vendor say);
#   - diskstats of nvme0n1 moved by exactly dd's count and bytes. Exact,
#     because with O_DIRECT there is no page cache; one dd write of
#     TS_BS <= max_sectors_kb is one request (checked against the guest's
#     queue limits: max_sectors_kb, max_segments), and dd waits for each
#     write before the next, so nothing merges (merged delta 0 is asserted);
#   - Identify Controller and the NVMe health log (SMART / Health
#     Information, log page 02h) read through libnvme ioctls on /dev/nvme0:
#     identity equal to sysfs, QEMU's temperature, the critical warning set
#     with smart_critical_warning=, and host write commands / data units
#     written moved by exactly dd's writes.
# After all of that (the figures above stay exact) the guest mounts cgroup v2,
# enables +memory +io for the root's children, makes the whole namespace its
# swap, and runs memhog (tests/fakes/memhog.cpp) under `tierscope run-capped`
# (which execs tierscope-workloads, copied beside tierscope in the guest):
#   - memhog TS_HOG_MIB under --memory-max TS_BUDGET_MIB M: exit 0; the budget
#     is a cgroup v2 directory whose memory.max reads back as asked; the
#     kernel swaps the excess out to nvme0n1: the workload's swap peak and its
#     io.stat write bytes on nvme0n1 are each >= TS_SWAP_MIN_MIB (io.stat is
#     exactly the pages /proc/vmstat pswpout counts); the guest's diskstats
#     of nvme0n1 moved by at least io.stat's writes; the NVMe health log (a
#     probe after the run) moved by exactly the data units and write commands
#     diskstats says (writes less flushes); memory.peak <= the budget;
#   - the same with --swap-max 0: the OOM killer ends memhog (exit 137),
#     run-capped records oom_killed and counts the kill (memory.events);
#     neither run leaves its cgroup behind.
#
# Caches (all optional; rebuilt when missing): the guest kernel and the
# initramfs part that does not depend on the tierscope binary (busybox, the
# NVMe modules) under ${TIERSCOPE_SYSTEM_CACHE:-/var/cache/tierscope-system-tests}/qemu-nvme/,
# keyed by kernel version. The tierscope and tierscope-workloads binaries,
# memhog, their libraries, coreutils dd, the init script and configs form a
# second cpio archive built on every run and appended to the cached one (the
# kernel unpacks both in order).
#
# Usage: qemu_nvme.sh TIERSCOPE_BINARY MEMHOG (with tierscope-workloads
# beside TIERSCOPE_BINARY, where run-capped looks for it). Needs root
# (apt-get download of the kernel, device nodes in the initramfs),
# qemu-system-x86_64, a static busybox, dpkg-deb and jq; skips (exit 77) with
# a message otherwise.
source "$(dirname "$0")/../e2e/lib.sh"
bin=$(realpath "$1")
memhog=$(realpath "$2")
helper=$(dirname "$bin")/tierscope-workloads
[[ -x $helper ]] || fail "no $helper (build the tierscope-workloads target): run-capped execs it"
[[ -x $memhog ]] || fail "no memhog at $2 (build the memhog target)"
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (apt-get download, device nodes in the guest initramfs)"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (Debian: qemu-system-x86)"
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || skip "no static $BUSYBOX (Debian: busybox-static)"
for tool in apt-cache apt-get dpkg-deb jq timeout; do
  command -v "$tool" >/dev/null || skip "$tool not installed"
done
[[ -x /usr/bin/dd ]] && /usr/bin/dd --version 2>/dev/null | grep -q coreutils || skip "no coreutils dd"

# ---- test parameters --------------------------------------------------------
# dd: TS_COUNT writes of TS_BS bytes. 512000 B = 1000 sectors of 512 B = 125
# pages of 4 KiB: a multiple of the logical block size, page-sized buffers
# (no split on the NVMe virt boundary), below QEMU's default MDTS (7: 2^7 x
# 4 KiB = 512 KiB, so max_hw_sectors_kb = 512) and one NVMe data unit
# (1000 x 512 B) per write, so the health log's data units move exactly.
TS_BS=512000
TS_COUNT=8
SERIAL=TSQEMU0001
# SMART critical warning injected through QEMU's smart_critical_warning
# property: bits 0 (spare below threshold) and 2 (reliability degraded).
# QEMU 7.2 accepts bits 0-4 (bit 5 only with a PMR; nvme_set_smart_warning
# in hw/nvme/ctrl.c). Bit 1 (temperature) is left clear because
# nvme_smart_info also sets it on its own when the temperature crosses a
# threshold, and bit 3 (read-only) because a kernel may act on it.
CRIT_WARN=5
# The memory budget: memhog touches TS_HOG_MIB MiB under memory_max
# TS_BUDGET_MIB MiB, so at least TS_HOG_MIB - TS_BUDGET_MIB (112) MiB must go
# to swap; the checks ask for TS_SWAP_MIN_MIB of it, as issue 10 does.
TS_HOG_MIB=160
TS_BUDGET_MIB=48
TS_SWAP_MIN_MIB=100
# The namespace is the guest's swap after the dd checks: 256 MiB holds all of
# memhog's 160 MiB (the image is sparse: only what is written takes space).
IMG_BYTES=$((256 * 1024 * 1024))
CACHE_ROOT=${TIERSCOPE_SYSTEM_CACHE:-/var/cache/tierscope-system-tests}
CACHE_FORMAT=v1   # bump when the cached layout changes
QEMU_TIMEOUT=${TIERSCOPE_QEMU_TIMEOUT:-240}

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)

# ---- guest kernel -----------------------------------------------------------
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[[ -n "$kpkg" ]] || skip "apt-cache knows no linux-image-amd64 (run apt-get update)"
kver=${kpkg#linux-image-}
kcache=$CACHE_ROOT/qemu-nvme/$CACHE_FORMAT-$kver

# module_deps FILE: the depends= field of a kernel module's .modinfo section.
module_deps() {
  case $1 in
    *.ko.xz) xz -dc "$1" ;; *.ko.zst) zstd -dc "$1" ;; *.ko.gz) gzip -dc "$1" ;; *) cat "$1" ;;
  esac | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '
}

# build_kernel_dir DIR: vmlinuz and base.cpio (busybox, the NVMe modules and
# their dependencies, decompressed for busybox insmod, in load order) in DIR.
build_kernel_dir() {
  local out=$1 dl=$TMP/kernel-download x=$TMP/kernel-tree stage=$TMP/base
  mkdir -p "$dl" "$x" "$out"
  # apt-get download drops privileges to _apt, which must be able to write here.
  id _apt >/dev/null 2>&1 && chown _apt "$dl"
  (cd "$dl" && apt-get download -q "$kpkg") >"$TMP/apt.log" 2>&1 \
    || { cat "$TMP/apt.log"; fail "apt-get download $kpkg failed"; }
  dpkg-deb -x "$dl"/"$kpkg"_*.deb "$x"
  cp "$x/boot/vmlinuz-$kver" "$out/vmlinuz"
  local mods=$x/lib/modules/$kver
  mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc/tierscope,proc,sys,dev,tmp}
  cp "$BUSYBOX" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  mknod -m 600 "$stage/dev/console" c 5 1
  # Depth-first over depends=, dependencies before dependents; built-in
  # modules (modules.builtin) need nothing.
  local -a order=()
  add_module() {
    local name=${1//_/-} f dep m
    for m in "${order[@]}"; do [[ $m == "$name" ]] && return 0; done
    f=$(find "$mods/kernel" \( -name "$name.ko*" -o -name "${name//-/_}.ko*" \) | head -1)
    if [[ -z "$f" ]]; then
      grep -Eq "/(${name}|${name//-/_})\.ko\$" "$mods/modules.builtin" && return 0
      fail "module $name not found in $kpkg"
    fi
    for dep in $(module_deps "$f"); do add_module "$dep"; done
    case $f in
      *.ko.xz) xz -dc "$f" ;; *.ko.zst) zstd -dc "$f" ;; *.ko.gz) gzip -dc "$f" ;; *) cat "$f" ;;
    esac >"$stage/lib/modules/$name.ko"
    order+=("$name")
  }
  add_module nvme
  printf '%s\n' "${order[@]}" >"$stage/lib/modules/load.order"
  (cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$out/base.cpio"
  echo "guest kernel $kver: modules $(tr '\n' ' ' <"$stage/lib/modules/load.order")"
  rm -rf "$dl" "$x" "$stage"
}

t0=$(now)
if [[ -s $kcache/vmlinuz && -s $kcache/base.cpio ]]; then
  kdir=$kcache
  kernel_note="cached in $kcache"
else
  kdir=$TMP/kernel
  build_kernel_dir "$kdir"
  kernel_note="fetched and unpacked"
  # Publish atomically so that a concurrent run never sees half a cache.
  if mkdir -p "$CACHE_ROOT/qemu-nvme" 2>/dev/null && cp -r "$kdir" "$kcache.tmp.$$" 2>/dev/null; then
    mv -T "$kcache.tmp.$$" "$kcache" 2>/dev/null || rm -rf "$kcache.tmp.$$"
    kernel_note+=", cached in $kcache"
    # Kernels that linux-image-amd64 no longer points at are not needed again.
    for old in "$CACHE_ROOT"/qemu-nvme/v*; do
      [[ $old == "$kcache" || $old == *.tmp.* ]] || rm -rf "$old"
    done
  else
    kernel_note+=" (cache $CACHE_ROOT not writable; not cached)"
  fi
fi
t_kernel=$(since "$t0")
echo "guest kernel: $kpkg ($kernel_note) in ${t_kernel} s"

# ---- per-run initramfs: tierscope, helper, memhog + libraries, dd, init, configs
t0=$(now)
stage=$TMP/run
mkdir -p "$stage"/{usr/bin,etc/tierscope}
# copy_elf FILE DEST: FILE at DEST in the guest, with every library ldd lists
# and the dynamic loader at the paths ldd gives (the guest has no merged /usr:
# /lib/x86_64-linux-gnu is a real directory there, which the loader searches).
copy_elf() {
  cp "$1" "$stage$2"
  local lib
  for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    [[ -e $stage$lib ]] && continue
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done
}
copy_elf "$bin" /usr/bin/tierscope
# Debug info is most of the binary's size and the guest does not need it
# (a smaller initramfs loads faster under TCG); the code is unchanged.
copy_elf "$helper" /usr/bin/tierscope-workloads
copy_elf "$memhog" /usr/bin/memhog
strip --strip-debug "$stage/usr/bin/tierscope" "$stage/usr/bin/tierscope-workloads" "$stage/usr/bin/memhog" 2>/dev/null || true
copy_elf /usr/bin/dd /usr/bin/dd
# Libraries tierscope loads with dlopen do not show in ldd: libnvme (health
# log), if this build loads it that way.
for soname in $(grep -ao 'libnvme[a-z-]*\.so\.[0-9]*' "$bin" | sort -u); do
  # awk reads all of ldconfig's output: leaving early would end ldconfig with
  # SIGPIPE on a host with many libraries, and pipefail would stop the test.
  path=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64/ && p == "" { p = $NF } END { print p }')
  if [[ -n "$path" && ! -e $stage$path ]]; then
    mkdir -p "$stage$(dirname "$path")"
    cp -L "$path" "$stage$path"
    for lib in $(ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
      [[ -e $stage$lib ]] || { mkdir -p "$stage$(dirname "$lib")"; cp -L "$lib" "$stage$lib"; }
    done
  fi
done
install -m 755 "$here/qemu/init" "$stage/init"
cp "$here/qemu/auto.yaml" "$here/qemu/configured.yaml" "$stage/etc/tierscope/"
printf 'TS_BS=%s\nTS_COUNT=%s\nTS_INTERVAL=%s\nTS_HOG_MIB=%s\nTS_BUDGET_MIB=%s\n' \
  "$TS_BS" "$TS_COUNT" 200ms "$TS_HOG_MIB" "$TS_BUDGET_MIB" >"$stage/etc/tierscope-test.env"
(cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$TMP/run.cpio"
cat "$kdir/base.cpio" "$TMP/run.cpio" >"$TMP/initrd.cpio"
t_initrd=$(since "$t0")
echo "initramfs: $(du -h "$kdir/base.cpio" | cut -f1) per kernel (busybox, modules) + $(du -h "$TMP/run.cpio" | cut -f1) per run (tierscope, tierscope-workloads, memhog, dd, libraries) in ${t_initrd} s"

# ---- boot -------------------------------------------------------------------
truncate -s "$IMG_BYTES" "$TMP/nvme.img"
CONSOLE=$TMP/console.raw
t_boot=$(now)
timeout -k 5 "$QEMU_TIMEOUT" qemu-system-x86_64 \
  -machine q35 -accel tcg -cpu max -smp 1 -m 512 \
  -nodefaults -display none -serial stdio -no-reboot \
  -kernel "$kdir/vmlinuz" -initrd "$TMP/initrd.cpio" \
  -append 'console=ttyS0 panic=-1 quiet' \
  -drive file="$TMP/nvme.img",if=none,id=nvm,format=raw \
  -device nvme,serial=$SERIAL,drive=nvm,smart_critical_warning=$CRIT_WARN \
  </dev/null >"$CONSOLE" 2>"$TMP/qemu.err" &
QEMU_PID=$!
cleanup_qemu() { kill -KILL "$QEMU_PID" 2>/dev/null || true; cleanup_e2e; }
trap cleanup_qemu EXIT
t_first=""
while kill -0 "$QEMU_PID" 2>/dev/null; do
  if [[ -z "$t_first" ]] && grep -aq '^=== tierscope guest init' "$CONSOLE"; then t_first=$(since "$t_boot"); fi
  sleep 0.1
done
qemu_rc=0
wait "$QEMU_PID" || qemu_rc=$?
t_guest=$(since "$t_boot")
tr -d '\r' <"$CONSOLE" >"$TMP/console.log"
LOGC=$TMP/console.log
dump_console() { echo "--- guest console (last 60 lines):" >&2; tail -n 60 "$LOGC" >&2; echo "--- qemu stderr:" >&2; cat "$TMP/qemu.err" >&2; }
[[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]] && { dump_console; fail "QEMU ran past ${QEMU_TIMEOUT} s"; }
[[ $qemu_rc -eq 0 ]] || { dump_console; fail "QEMU exited with $qemu_rc"; }
grep -q '^=== tierscope guest done' "$LOGC" || { dump_console; fail "guest did not finish its script"; }
echo "boot: first guest output after ${t_first:-?} s ($(sed -n 's/^=== tierscope guest init at uptime \(.*\) s ===$/\1/p' "$LOGC") s guest uptime), guest powered off after ${t_guest} s"

# ---- guest output -----------------------------------------------------------
# section NAME [RC]: the lines between the guest's BEGIN and END markers of
# NAME, into $TMP/NAME.out; fails unless the section ran with exit status RC
# (default 0).
section() {
  local rc
  rc=$(sed -n "s/^=== END $1 rc=\([0-9]*\) ===\$/\1/p" "$LOGC")
  [[ -n "$rc" ]] || { dump_console; fail "guest printed no section $1"; }
  awk -v b="=== BEGIN $1 ===" -v e="=== END $1 rc=" '$0 == b { on = 1; next } on && index($0, e) == 1 { exit } on' \
    "$LOGC" >"$TMP/$1.out"
  [[ "$rc" == "${2:-0}" ]] || { tail -n 40 "$TMP/$1.out" >&2; fail "guest section $1 exited with $rc (expected ${2:-0})"; }
}
for s in boot sysfs probe-auto probe-before diskstats-before dd diskstats-after probe-after probe-after-text; do
  section "$s"
done
for s in probe-auto probe-before probe-after probe-after-text; do
  sed -n "s/^#stderr: /guest $s log: /p" "$TMP/$s.out"
  sed -i '/^#stderr: /d' "$TMP/$s.out"
done
for s in probe-auto probe-before probe-after; do
  jq -e '.metrics | length > 0' "$TMP/$s.out" >/dev/null || { head -c 2000 "$TMP/$s.out" >&2; fail "$s: not tierscope JSON"; }
done
# fact NAME: a NAME=value line of the guest's sysfs section, padding trimmed.
fact() { sed -n "s/^$1=//p" "$TMP/sysfs.out" | sed 's/ *$//'; }
echo "guest: $(sed -n 1p "$TMP/boot.out"); nvme0n1 queue: logical_block_size=$(fact logical_block_size)" \
     "max_sectors_kb=$(fact max_sectors_kb) max_hw_sectors_kb=$(fact max_hw_sectors_kb) max_segments=$(fact max_segments)"
echo "dd: $(tail -n 1 "$TMP/dd.out")"

# jv FILE NAME [LABELS]: the value of the one sample of family NAME whose labels
# include LABELS (a JSON object, exact string match); fails unless exactly one.
jv() {
  jq -er --arg n "$2" --argjson l "${3:-"{}"}" \
    '[.metrics[] | select(.name == $n) | .samples[] | select(.labels as $s | $l | to_entries | all(.value == $s[.key])) | .value]
     | if length == 1 then .[0] else error("\(length) samples") end' "$1" 2>/dev/null
}
# count FILE NAME [LABELS]: how many samples match.
count() {
  jq -r --arg n "$2" --argjson l "${3:-"{}"}" \
    '[.metrics[] | select(.name == $n) | .samples[] | select(.labels as $s | $l | to_entries | all(.value == $s[.key]))] | length' "$1"
}
# need FILE NAME [LABELS]: like jv, failing the test when absent.
need() { jv "$@" || fail "$(basename "$1" .out): no single sample of $2 ${3:-}"; }
# show FILE PATTERN: the matching samples as Prometheus-style lines.
show() {
  jq -r --arg p "$2" '.metrics[] | select(.name | test($p)) | .name as $n | .samples[]
    | "\($n){\(.labels | to_entries | map("\(.key)=\"\(.value)\"") | join(","))} \(.value)"' "$1" | sed 's/^/    /'
}
pass() { echo "ok: $*"; }

# ---- identity and the offload verdict --------------------------------------
ctrl='{"controller":"nvme0"}'
ns='{"device":"nvme0n1"}'
echo "guest probe (offload_device: [nvme0]), before dd:"
show "$TMP/probe-before.out" '^tierscope_(nvme_(info|state|namespace_.*)|offload_device_info|probe_success)$'
ident="{\"controller\":\"nvme0\",\"pci_vendor\":\"0x1b36\",\"model\":\"QEMU NVMe Ctrl\",\"serial\":\"$SERIAL\",\"transport\":\"pcie\"}"
for f in probe-auto probe-before probe-after; do
  [[ $(jv "$TMP/$f.out" tierscope_probe_success '{"probe":"nvme"}') == 1 ]] || fail "$f: nvme probe failed"
  [[ $(jv "$TMP/$f.out" tierscope_probe_success '{"probe":"diskstats"}') == 1 ]] || fail "$f: diskstats probe failed"
  [[ $(count "$TMP/$f.out" tierscope_nvme_info "$ident") == 1 ]] \
    || { show "$TMP/$f.out" '^tierscope_nvme_info$' >&2; fail "$f: tierscope_nvme_info is not $ident"; }
done
pass "tierscope_nvme_info: pci_vendor=0x1b36 model=\"QEMU NVMe Ctrl\" serial=$SERIAL transport=pcie (sysfs: vendor=$(fact vendor), model=$(fact model), serial=$(fact serial))"
need "$TMP/probe-before.out" tierscope_nvme_state '{"controller":"nvme0","state":"live"}' >/dev/null
cap=$(need "$TMP/probe-before.out" tierscope_nvme_namespace_capacity_bytes '{"controller":"nvme0","device":"nvme0n1"}')
[[ $cap == "$IMG_BYTES" ]] || fail "namespace capacity $cap != image size $IMG_BYTES"
pass "nvme0 state live; nvme0n1 capacity $cap B = the raw image"

# offload_device: auto. 0x1b36 is not Phison's 0x1987: no offload series.
[[ $(count "$TMP/probe-auto.out" tierscope_nvme_info '{"controller":"nvme0","phison":"false"}') == 1 ]] \
  || fail "offload_device auto: QEMU's controller is not phison=\"false\""
[[ $(count "$TMP/probe-auto.out" tierscope_offload_device_info) == 0 ]] \
  || { show "$TMP/probe-auto.out" '^tierscope_offload_device_info$' >&2; fail "offload_device auto: offload series for a non-Phison controller"; }
pass "offload_device auto: phison=\"false\", no tierscope_offload_device_info"
# offload_device: [nvme0]. Configured, never detected as Phison; the phison
# label says what the hardware says (METRICS.md: PCI vendor or subsystem
# vendor 0x1987), so a configured QEMU controller stays phison="false".
need "$TMP/probe-before.out" tierscope_offload_device_info '{"controller":"nvme0","device":"nvme0n1","role":"configured"}' >/dev/null
[[ $(count "$TMP/probe-before.out" tierscope_offload_device_info) == 1 ]] \
  || fail "offload_device [nvme0]: expected exactly one offload series (role=configured)"
[[ $(count "$TMP/probe-before.out" tierscope_nvme_info '{"controller":"nvme0","phison":"false"}') == 1 ]] \
  || fail "offload_device [nvme0]: the configured QEMU controller is not phison=\"false\""
pass "offload_device [nvme0]: role=\"configured\" only (no role=\"phison\"), phison=\"false\": the vendor is not Phison's"

# ---- diskstats: exactly dd's writes -----------------------------------------
# Each dd write is one request only if it fits the queue limits.
(( TS_BS % $(fact logical_block_size) == 0 )) || fail "bs $TS_BS is not a multiple of the logical block size"
(( TS_BS <= $(fact max_sectors_kb) * 1024 )) || fail "bs $TS_BS > max_sectors_kb: the kernel would split each write"
(( TS_BS / 4096 + 1 <= $(fact max_segments) )) || fail "bs $TS_BS needs more than max_segments pages"
grep -q "^$TS_COUNT+0 records out" "$TMP/dd.out" || fail "dd did not write $TS_COUNT records: $(cat "$TMP/dd.out")"
d='{"device":"nvme0n1"}'
w0=$(need "$TMP/probe-before.out" tierscope_disk_writes_completed_total "$d")
w1=$(need "$TMP/probe-after.out" tierscope_disk_writes_completed_total "$d")
m0=$(need "$TMP/probe-before.out" tierscope_disk_writes_merged_total "$d")
m1=$(need "$TMP/probe-after.out" tierscope_disk_writes_merged_total "$d")
b0=$(need "$TMP/probe-before.out" tierscope_disk_written_bytes_total "$d")
b1=$(need "$TMP/probe-after.out" tierscope_disk_written_bytes_total "$d")
printf '%-22s dd: %6d writes %10d B | tierscope: %6d+%-4d writes %10d B\n' "diskstats nvme0n1" \
  "$TS_COUNT" $((TS_COUNT * TS_BS)) $((w1 - w0)) $((m1 - m0)) $((b1 - b0))
(( w1 - w0 == TS_COUNT )) || fail "writes completed moved by $((w1 - w0)), dd wrote $TS_COUNT"
(( m1 - m0 == 0 )) || fail "writes merged moved by $((m1 - m0))"
(( b1 - b0 == TS_COUNT * TS_BS )) || fail "written bytes moved by $((b1 - b0)), dd wrote $((TS_COUNT * TS_BS))"
# The daemon's values are the kernel's: /proc/diskstats fields 5, 6, 7 (sectors).
for phase in before:"$w0 $m0 $b0" after:"$w1 $m1 $b1"; do
  read -r k_w k_wm k_ws <<<"$(awk '$3 == "nvme0n1" { print $8, $9, $10 }' "$TMP/diskstats-${phase%%:*}.out")"
  [[ "${phase#*:}" == "$k_w $k_wm $((k_ws * 512))" ]] || fail "tierscope '${phase#*:}' != guest /proc/diskstats ($k_w $k_wm $k_ws sectors) ${phase%%:*} dd"
done
pass "diskstats nvme0n1: +$TS_COUNT writes, +0 merged, +$((TS_COUNT * TS_BS)) B, equal to the guest's /proc/diskstats"

# ---- NVMe health log (libnvme) -----------------------------------------------
# The health series are required: this tree has the reader (probes/nvme_libnvme.cpp).
echo "guest probe, after dd (health log):"
show "$TMP/probe-after.out" '^tierscope_nvme_(temperature|critical|host_|data_|percentage|power_on|unsafe|media)'
for f in probe-before probe-after; do
  [[ $(jv "$TMP/$f.out" tierscope_nvme_health_log_up "$ctrl") == 1 ]] || fail "$f: health log of nvme0 not read (see the guest log above)"
done
pass "tierscope_nvme_health_log_up 1 (Identify and Get Log Page 02h through libnvme on /dev/nvme0)"
# QEMU 7.2, hw/nvme/ctrl.c: nvme_init_state sets n->temperature =
# NVME_TEMPERATURE (0x143 = 323 K; NVME_TEMPERATURE_WARNING 0x157 = 343 K is
# the default over-temperature threshold, temp_thresh_hi) and
# nvme_smart_info reports it unchanged in the log's kelvins. tierscope
# exports integer kelvin - 273 (as nvme-cli and smartctl print it; see
# tierscope_nvme_temperature_celsius in exporters/metric_catalog.h).
temp=$(need "$TMP/probe-after.out" tierscope_nvme_temperature_celsius "$ctrl")
[[ $temp == 50 ]] || fail "temperature $temp °C != QEMU's 323 K - 273 = 50 °C"
pass "temperature $temp °C = QEMU's NVME_TEMPERATURE 0x143 (323 K)"
# nvme_smart_info: critical_warning = n->smart_critical_warning, plus bit 1
# when the temperature is at/over temp_thresh_hi or at/under temp_thresh_low
# (neither here).
cw=$(need "$TMP/probe-after.out" tierscope_nvme_critical_warning "$ctrl")
(( cw == CRIT_WARN )) || fail "critical warning $cw != smart_critical_warning=$CRIT_WARN"
pass "critical warning $cw = smart_critical_warning=$CRIT_WARN"
# nvme_smart_info: host_write_commands = the backend's BLOCK_ACCT_WRITE ops
# (one per NVMe Write; flushes and admin commands are not counted), and
# data_units_written = DIV_ROUND_UP(bytes written / 512, 1000), cumulative.
hw0=$(need "$TMP/probe-before.out" tierscope_nvme_host_write_commands_total "$ctrl")
hw1=$(need "$TMP/probe-after.out" tierscope_nvme_host_write_commands_total "$ctrl")
dw0=$(need "$TMP/probe-before.out" tierscope_nvme_data_written_bytes_total "$ctrl")
dw1=$(need "$TMP/probe-after.out" tierscope_nvme_data_written_bytes_total "$ctrl")
s0=$((b0 / 512)) s1=$((b1 / 512))
units=$(( (s1 + 999) / 1000 - (s0 + 999) / 1000 ))
printf '%-22s dd: %6d writes %10d B | health log: %6d commands %10d B (%d data units)\n' "health nvme0" \
  "$TS_COUNT" $((TS_COUNT * TS_BS)) $((hw1 - hw0)) $((dw1 - dw0)) $(((dw1 - dw0) / 512000))
(( hw1 - hw0 == TS_COUNT )) || fail "host write commands moved by $((hw1 - hw0)), dd wrote $TS_COUNT"
(( dw1 - dw0 == units * 512000 )) || fail "data written moved by $((dw1 - dw0)) B, expected $units units x 512000"
pass "health log: +$TS_COUNT write commands, +$units data units = +$((units * 512000)) B"
# Identify Controller (CNS 01h): QEMU's nvme_init_ctrl fills VID/SSVID
# from the PCI ids, MN "QEMU NVMe Ctrl", SN from serial=, FR the QEMU
# version; it must agree with what the kernel shows in sysfs.
show "$TMP/probe-after.out" '^tierscope_nvme_identify_info$'
idl=$(jq -nc --arg s "$SERIAL" --arg ss "$(fact subsystem_vendor)" --arg fw "$(fact firmware_rev)" \
      '{controller: "nvme0", vid: "0x1b36", ssvid: $ss, model: "QEMU NVMe Ctrl", serial: $s, firmware: $fw}')
need "$TMP/probe-after.out" tierscope_nvme_identify_info "$idl" >/dev/null
pass "tierscope_nvme_identify_info = sysfs identity: $idl"

# The Prometheus text of the same probe carries the identity line verbatim.
grep -q "^tierscope_nvme_info{.*model=\"QEMU NVMe Ctrl\".*serial=\"$SERIAL\"" "$TMP/probe-after-text.out" \
  || fail "prometheus text: no tierscope_nvme_info line for the QEMU controller"

# ---- the memory budget on a real kernel: run-capped, swap on nvme0n1 --------
for s in cgroup swap diskstats-rc1-before vmstat-rc1-before rc1 diskstats-rc1-after vmstat-rc1-after \
         rc1-json rc1-last probe-after-rc1 rc2-json cgroups-left; do
  section "$s"
done
# memhog past memory_max without swap: SIGKILL from the OOM killer, 128 + 9.
section rc2 137
sed -n "s/^#stderr: /guest probe-after-rc1 log: /p" "$TMP/probe-after-rc1.out"
sed -i '/^#stderr: /d' "$TMP/probe-after-rc1.out"
budget_uptime=$(sed -n 's/^uptime=//p' "$TMP/cgroup.out")
subtree=" $(sed -n 's/^subtree_control=//p' "$TMP/cgroup.out") "
[[ $subtree == *" memory "* && $subtree == *" io "* ]] \
  || fail "guest cgroup v2 root: memory and io not enabled for its children: $(cat "$TMP/cgroup.out")"
swap_kib=$(awk '$1 == "/dev/nvme0n1" { print $3 }' "$TMP/swap.out")
[[ -n $swap_kib ]] && (( swap_kib >= TS_HOG_MIB * 1024 )) || fail "swap on nvme0n1: $(cat "$TMP/swap.out")"
echo "guest run-capped, memhog $TS_HOG_MIB MiB under memory_max ${TS_BUDGET_MIB}M (swap: nvme0n1, $swap_kib KiB):"
sed 's/^/    /' "$TMP/rc1.out"
j=$TMP/rc1-json.out
jq -e . "$j" >/dev/null || fail "run-capped.json of run 1 is not JSON: $(head -c 2000 "$j")"
jq -e '.memory_bytes and .events and .io and .t_s' "$TMP/rc1-last.out" >/dev/null \
  || fail "the last line of samples.jsonl is not a sample: $(cat "$TMP/rc1-last.out")"
echo "    last sample: $(cat "$TMP/rc1-last.out")"
grep -q "^touched $TS_HOG_MIB MiB" "$TMP/rc1.out" || fail "run 1: memhog did not touch $TS_HOG_MIB MiB"
[[ $(jq -r .exit_code "$j") == 0 && $(jq -r .oom_killed "$j") == false ]] \
  || fail "run 1 ended as $(jq -c '{exit, exit_code, oom_killed}' "$j")"
[[ $(jq -r .budget.backend "$j") == cgroup-v2 ]] || fail "run 1: budget $(jq -c .budget "$j"), not cgroup-v2"
[[ $(jq -r .budget.applied.memory_max "$j") == $((TS_BUDGET_MIB << 20)) ]] \
  || fail "run 1: memory.max read back as $(jq -c .budget.applied "$j"), asked $((TS_BUDGET_MIB << 20))"
pass "run 1: exit 0, cgroup-v2 $(jq -r .budget.cgroup "$j"), memory.max read back $((TS_BUDGET_MIB << 20))"
peak_mem=$(jq -r '.peak_bytes.memory // empty' "$j")
peak_swap=$(jq -r '.peak_bytes.swap // empty' "$j")
io_w=$(jq -r '.io["nvme0n1"].write_bytes // empty' "$j")
io_wios=$(jq -r '.io["nvme0n1"].write_ios // empty' "$j")
[[ -n $peak_mem && -n $peak_swap && -n $io_w && -n $io_wios ]] \
  || fail "run 1: absent figures: $(jq -c '{peak_bytes, io}' "$j")"
# Guest /proc/diskstats (fields 8 and 10: writes completed, sectors written)
# and /proc/vmstat pswpout (pages) around run 1.
read -r dw_a ds_a <<<"$(awk '$3 == "nvme0n1" { print $8, $10 }' "$TMP/diskstats-rc1-before.out")"
read -r dw_b ds_b <<<"$(awk '$3 == "nvme0n1" { print $8, $10 }' "$TMP/diskstats-rc1-after.out")"
pso_a=$(awk '$1 == "pswpout" { print $2 }' "$TMP/vmstat-rc1-before.out")
pso_b=$(awk '$1 == "pswpout" { print $2 }' "$TMP/vmstat-rc1-after.out")
disk_w=$(( (ds_b - ds_a) * 512 ))
mibf() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
printf '%-22s peak memory %s, peak swap %s | io.stat nvme0n1: %d writes %s | diskstats: %d writes %s | pswpout %d pages (%s)\n' \
  "budget run 1" "$(mibf "$peak_mem")" "$(mibf "$peak_swap")" "$io_wios" "$(mibf "$io_w")" \
  $((dw_b - dw_a)) "$(mibf "$disk_w")" $((pso_b - pso_a)) "$(mibf $(( (pso_b - pso_a) * 4096 )))"
(( peak_swap >= TS_SWAP_MIN_MIB << 20 )) || fail "run 1: swap peak $peak_swap B < $TS_SWAP_MIN_MIB MiB"
(( io_w >= TS_SWAP_MIN_MIB << 20 )) || fail "run 1: io.stat write bytes on nvme0n1 $io_w B < $TS_SWAP_MIN_MIB MiB"
# Every page swapped out in this window is memhog's (nothing else in the guest
# is short of memory), and the kernel charges each swap-out bio to the page's
# memory cgroup (cgroup v2 with io enabled), so io.stat's write bytes are
# exactly /proc/vmstat pswpout x 4 KiB.
(( io_w == (pso_b - pso_a) * 4096 )) || fail "run 1: io.stat write bytes $io_w != pswpout $((pso_b - pso_a)) pages x 4096"
(( disk_w >= io_w )) || fail "run 1: diskstats of nvme0n1 moved by $disk_w B < the workload's io.stat $io_w B"
(( peak_mem <= TS_BUDGET_MIB << 20 )) || fail "run 1: memory peak $peak_mem B > memory_max ${TS_BUDGET_MIB} MiB"
pass "run 1: swap peak $(mibf "$peak_swap") >= $TS_SWAP_MIN_MIB MiB, io.stat writes on nvme0n1 $(mibf "$io_w") = pswpout, <= diskstats $(mibf "$disk_w"), memory peak $(mibf "$peak_mem") <= ${TS_BUDGET_MIB} MiB"
# The controller's own counters (QEMU's health log, read by a probe after the
# run) against the guest's diskstats from the probe after dd to the one after
# run 1 (mkswap, sync and run 1): data units as QEMU rounds them (see the dd
# check above), and write commands exactly: one NVMe Write per block-layer
# write request, less the flushes. sync's flush is a data-less write request
# with REQ_PREFLUSH; the kernel counts it once as a write of 0 sectors when it
# ends and once as a flush (diskstats field 15), and the controller sees only
# an NVMe Flush, which QEMU does not count as a write command. (Seen here:
# mkswap + sync moved diskstats by 2 writes, 8 sectors, 1 flush.)
b2=$(need "$TMP/probe-after-rc1.out" tierscope_disk_written_bytes_total "$d")
w2=$(need "$TMP/probe-after-rc1.out" tierscope_disk_writes_completed_total "$d")
fl1=$(need "$TMP/probe-after.out" tierscope_disk_flushes_completed_total "$d")
fl2=$(need "$TMP/probe-after-rc1.out" tierscope_disk_flushes_completed_total "$d")
hw2=$(need "$TMP/probe-after-rc1.out" tierscope_nvme_host_write_commands_total "$ctrl")
dw2=$(need "$TMP/probe-after-rc1.out" tierscope_nvme_data_written_bytes_total "$ctrl")
units2=$(( (b2 / 512 + 999) / 1000 - (s1 + 999) / 1000 ))
printf '%-22s diskstats: %6d writes (%d flushes) %s | health log: %6d commands %s (%d data units)\n' "health nvme0, run 1" \
  $((w2 - w1)) $((fl2 - fl1)) "$(mibf $((b2 - b1)))" $((hw2 - hw1)) "$(mibf $((dw2 - dw1)))" $(((dw2 - dw1) / 512000))
(( b2 - b1 >= disk_w )) || fail "diskstats after run 1 ($b2 B) disagrees with the guest's /proc/diskstats"
(( hw2 - hw1 == w2 - w1 - (fl2 - fl1) )) \
  || fail "health log write commands moved by $((hw2 - hw1)), diskstats writes by $((w2 - w1)) with $((fl2 - fl1)) flushes"
(( dw2 - dw1 == units2 * 512000 )) || fail "health log data written moved by $((dw2 - dw1)) B, diskstats says $units2 units x 512000"
pass "health log after run 1: +$((hw2 - hw1)) write commands (diskstats: $((w2 - w1)) writes - $((fl2 - fl1)) flush), +$units2 data units: the controller agrees with diskstats"

j=$TMP/rc2-json.out
echo "guest run-capped, memhog $TS_HOG_MIB MiB under memory_max ${TS_BUDGET_MIB}M, swap_max 0:"
sed 's/^/    /' "$TMP/rc2.out"
jq -e . "$j" >/dev/null || fail "run-capped.json of run 2 is not JSON: $(head -c 2000 "$j")"
[[ $(jq -r .exit_code "$j") == 137 && $(jq -r .oom_killed "$j") == true ]] \
  || fail "run 2 ended as $(jq -c '{exit, exit_code, oom_killed}' "$j")"
[[ $(jq -r .budget.applied.swap_max "$j") == 0 ]] || fail "run 2: swap.max read back as $(jq -c .budget.applied "$j")"
kills=$(jq -r '.events.oom_kill // 0' "$j")
(( kills >= 1 )) || fail "run 2: no oom_kill counted: $(jq -c .events "$j")"
pass "run 2 (swap_max 0): exit 137, oom_killed, events.oom_kill $kills, events $(jq -c .events "$j")"
[[ ! -s $TMP/cgroups-left.out ]] || fail "cgroups left behind by run-capped: $(cat "$TMP/cgroups-left.out")"
pass "both budgets' cgroups removed after the runs"
budget_s=$(awk -v a="$budget_uptime" -v b="$(sed -n 's/^=== tierscope guest done at uptime \(.*\) s ===$/\1/p' "$LOGC")" 'BEGIN { printf "%.1f", b - a }')

echo "timings: kernel ${t_kernel} s, initramfs ${t_initrd} s, boot to first guest output ${t_first:-?} s," \
     "guest run ${t_guest} s (memory budget part ${budget_s} s), total $(since "$t_start") s"
echo "PASS: real nvme driver under QEMU: identity, offload verdict, exact diskstats and health log;" \
     "memory budget enforced by the guest kernel (swap to nvme0n1, OOM kill)"
