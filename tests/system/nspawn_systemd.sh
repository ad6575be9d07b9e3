#!/usr/bin/env bash
# System test: the tierscope .deb under a real systemd as PID 1, booted in a
# systemd-nspawn container (a Debian bookworm root made with debootstrap).
# Everything below runs inside the container, against the shipped unit and
# maintainer scripts, unchanged:
#   1. dpkg -i installs and enables/starts nothing; the conffile is there and
#      a local edit survives a reinstall (dpkg --force-confold).
#   2. `systemctl start` returns only after READY=1: the unit is already
#      active/running and /metrics answers right after it returns; the
#      STATUS= text ("sampling N probes every 1s; ...") is shown, and says
#      "last scrape Ns ago" once scraped.
#   7. the sandbox is in force (capability bounding set = cap_sys_admin,
#      NoNewPrivs, seccomp, read-only /, DevicePolicy=closed on the unit's
#      cgroup) and /proc/meminfo metrics are still served;
#      `systemd-analyze security` score inside the container.
#   3. `systemctl reload` applies an edited config (sample_interval 2s).
#   5. the journal gets the daemon's lines at their priorities: 6 for
#      "listening on", 4 for a reload that changes the listen address, 3 for
#      a rejected (invalid) reload, after which the old config keeps running.
#   4. the watchdog: with WatchdogSec=3s (a drop-in written by this test), a
#      SIGSTOPped daemon is killed ("Watchdog timeout") and restarted.
#   6. `systemctl stop` takes < 1 s and ends inactive with exit status 0.
#   8. an upgrade keeps the edited conffile and restarts a running daemon;
#      apt-get remove stops it and removes the binary; dpkg -P the conffile.
#   9. `tierscope run-capped` (issue 10's memory budget) makes its transient
#      scope through the container's systemd: with the memory controller in
#      the container's cgroup v2 (a pure-v2 host) the scope holds the command
#      with MemoryMax set and is gone after; without it (a hybrid host) the
#      budget is refused before anything starts.
#  10. on a hybrid host, a second boot with the legacy hierarchy: the same
#      scope on the v1 memory controller (success path, the read-back's
#      refusal when systemd does not use the controller, and the refusals of
#      what systemd applies only on v2). See the step for how.
#  11. the soak template (issue 11): `systemd-analyze verify` and `security`
#      (<= 3.0) of tierscope-soak@test.service; a short observe-only soak
#      (/etc/tierscope/soak/test.yaml, watching systemd-journald.service)
#      started with `systemctl start tierscope-soak@test`, its main process
#      SIGKILLed mid-run, restarted by systemd (NRestarts >= 1), then ending
#      on its own with exit 0; in /var/lib/tierscope/soak/test: soak.json
#      done with a verdict per subject and tier and the gap, one recording
#      whose every segment reads (`tierscope recording`: no corrupt line, at
#      most the killed segment's torn tail) with a gap record that starts at
#      most one fsync period (+ one sample) before the kill. Runs after 6.
# The numbers are those of the issue; the steps run in the order above.
#
# Cache: the pristine debootstrap root as a tarball under
# ${TIERSCOPE_SYSTEM_CACHE:-/var/cache/tierscope-system-tests}/nspawn/, keyed
# by suite, architecture, mirror and package list (the .deb's Depends), so a
# changed Depends rebuilds it. Optional: without it (or unwritable) the test
# debootstraps every run. Each run extracts a fresh copy into a temporary
# directory and removes it at the end; the container is powered off (killed
# after a timeout) and no process, mount or cgroup of the test remains.
#
# The container: systemd-nspawn --boot with its own network namespace, cgroup
# v2 and bpf(2) allowed (so that the container's systemd can enforce
# DevicePolicy=; see "boot" below). The unit under test is never changed; the
# only drop-in is the watchdog step's WatchdogSec=3s, removed after it.
#
# Usage: nspawn_systemd.sh BUILD_DIR|DEB. BUILD_DIR: the newest
# tierscope_*.deb in it. Needs root, debootstrap, systemd-nspawn, nsenter,
# dpkg-deb, jq and network access to the Debian mirror (only for a cold
# cache); skips (exit 77) with a message otherwise.
# Environment: TIERSCOPE_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# TIERSCOPE_SYSTEM_CACHE, TIERSCOPE_KEEP_ROOT=1 (keep the temp dir for
# debugging; the container is still stopped).
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }
[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR|DEB" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || skip "needs root (debootstrap, systemd-nspawn, nsenter)"
for tool in debootstrap systemd-nspawn nsenter dpkg-deb jq tar timeout flock sha256sum mountpoint; do
  command -v "$tool" >/dev/null || skip "$tool not installed (Debian: debootstrap, systemd-container, util-linux, dpkg, jq)"
done

if [[ -d $1 ]]; then
  DEB=$(ls -t "$1"/tierscope_*.deb 2>/dev/null | head -1 || true)
  [[ -n $DEB ]] || { echo "FAIL: no tierscope_*.deb in $1 (build it: cpack in the build dir)" >&2; exit 1; }
else
  DEB=$1
fi
DEB=$(realpath "$DEB")
[[ -f $DEB ]] || { echo "FAIL: $DEB does not exist" >&2; exit 1; }

SUITE=bookworm
MIRROR=${TIERSCOPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ARCH=$(dpkg --print-architecture)
CACHE_DIR=${TIERSCOPE_SYSTEM_CACHE:-/var/cache/tierscope-system-tests}/nspawn
CACHE_FORMAT=v1   # bump when what the tarball holds changes
PORT=9847         # the default listen address of the shipped config
CONF=/etc/tierscope/tierscope.yaml

# ---- timing ----------------------------------------------------------------
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
T_ALL=$(now)
TIMINGS=()
timing() { TIMINGS+=("$(printf '%-44s %8ss' "$1" "$2")"); echo "  [time] $1: $2 s"; }
step() { echo; echo "=== $* ==="; T_STEP=$(now); }
step_done() { timing "$1" "$(since "$T_STEP")"; }

# ---- work dir, container and clean-up ---------------------------------------
WORK=$(mktemp -d /var/tmp/tierscope-nspawn.XXXXXX)
ROOT=$WORK/root
MACHINE=tierscope-test-$$
NSPAWN_PID=""
CPID=""
MOUNTED_NSPAWN_TMPFS=""
CREATED_NSPAWN_DIR=""
DEVICE_POLICY_PROBE=""
DEVICE_POLICY_ENFORCEABLE=""
CT_V2_MEMORY=""
MEMCG_DIR=""
MEMCG_BEFORE=""
CGROUPS_BEFORE=$(find /sys/fs/cgroup/payload /sys/fs/cgroup/supervisor /sys/fs/cgroup/*/payload \
                   /sys/fs/cgroup/*/supervisor -type d 2>/dev/null || true)

# ct CMD...: run CMD inside the container (all its namespaces, its root), with
# a clean environment and a timeout (CT_TIMEOUT, default 60 s).
ct() {
  timeout "${CT_TIMEOUT:-60}" nsenter -t "$CPID" -a \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
    SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 DEBIAN_FRONTEND=noninteractive "$@"
}
show() { ct systemctl show -p "$1" --value tierscope.service; }
scrape() { ct curl -sSf --max-time 5 "http://127.0.0.1:$PORT/metrics"; }
# value 'series{labels}' < metrics: the sample value of one exact series.
value() { awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) exit 1 }'; }

# reload_and_wait success|failure: systemctl reload (asynchronous: ExecReload
# is a kill -HUP) and wait (<= 10 s) until the daemon counted that outcome.
reload_and_wait() {
  local before after
  before=$(scrape | value "tierscope_config_reloads_total{result=\"$1\"}") || fail "no reload counter ($1)"
  ct systemctl reload tierscope.service || fail "systemctl reload failed"
  for _ in $(seq 50); do
    after=$(scrape 2>/dev/null | value "tierscope_config_reloads_total{result=\"$1\"}" 2>/dev/null || echo "$before")
    [[ $after != "$before" ]] && return 0
    sleep 0.2
  done
  fail "reload: tierscope_config_reloads_total{result=\"$1\"} stayed $before for 10 s"
}

# ---- the memory budget through systemd (issue 10) helpers ---------------------
# capped NAME ARGS...: `tierscope run-capped --name NAME --out /root/capped-NAME
# ARGS` in the container, its stderr in $WORK/capped-NAME.err; sets RC and
# CAPPED_S (seconds it took).
capped() {
  local name=$1; shift
  local t0; t0=$(now)
  RC=0
  CT_TIMEOUT=30 ct tierscope run-capped --name "$name" --out "/root/capped-$name" --interval 500ms "$@" \
    >"$WORK/capped-$name.out" 2>"$WORK/capped-$name.err" || RC=$?
  CAPPED_S=$(since "$t0")
}
# no_scope_left UNIT: the unit is gone (LoadState=not-found; it may take a
# moment to be collected once its processes ended), and no tierscope-* unit
# is loaded at all.
no_scope_left() {
  local load=""
  for _ in $(seq 50); do
    load=$(ct systemctl show -p LoadState --value "$1")
    [[ $load == not-found ]] && break
    sleep 0.1
  done
  [[ $load == not-found ]] || fail "$1 is still loaded after run-capped ended: $(ct systemctl show -p ActiveState,SubState,ControlGroup "$1" | paste -sd' ' -)"
  local left
  left=$(ct systemctl list-units --all --plain --no-legend 'tierscope-*' | grep -v '^tierscope\.service' || true)
  [[ -z $left ]] || fail "tierscope units left behind: $left"
}
# budget_refused NAME MESSAGE ARGS...: run-capped refuses the budget with exit 1
# and MESSAGE, and its command (which would leave a marker file) never ran;
# nothing is left behind.
budget_refused() {
  local name=$1 message=$2; shift 2
  ct rm -f "/run/capped-ran-$name"
  capped "$name" "$@" -- sh -c "touch /run/capped-ran-$name; exec sleep 3"
  sed 's/^/    run-capped: /' "$WORK/capped-$name.err"
  [[ $RC -eq 1 ]] || fail "run-capped $* (name $name): exit $RC, expected 1: $(cat "$WORK/capped-$name.err")"
  grep -qF -- "$message" "$WORK/capped-$name.err" || fail "run-capped $*: no '$message' in: $(cat "$WORK/capped-$name.err")"
  ct test ! -e "/run/capped-ran-$name" || fail "run-capped $*: the command ran although the budget was refused"
  no_scope_left "tierscope-$name-engine.scope"
  echo "  refused in $CAPPED_S s, exit 1, the command never ran, no unit left: run-capped $*"
}
# budget_applied NAME MEMCG_LINE MEMCG_ROOT PROPERTY=VALUE@FILE... -- LIMITS...:
# `run-capped LIMITS -- sleep 3` through the scope UNIT
# (tierscope-NAME-engine.scope). While it runs: the scope is active with
# ControlGroup=/system.slice/UNIT and each PROPERTY=VALUE (`systemctl show`);
# the command's PID is in it, by its /proc/PID/cgroup: the systemd
# hierarchy's line and the memory controller's (MEMCG_LINE: that line's
# "ID:controllers" as a pattern); each FILE of the scope's directory under
# MEMCG_ROOT holds VALUE. Then run-capped exits 0, its run-capped.json names
# the scope and the limits read back, and the scope is gone.
budget_applied() {
  local name=$1 memcg_line=$2 memcg_root=$3 unit="tierscope-$1-engine.scope" t0 expect=()
  shift 3
  while [[ $1 != -- ]]; do expect+=("$1"); shift; done
  shift
  t0=$(now)
  CT_TIMEOUT=30 ct tierscope run-capped --name "$name" --out "/root/capped-$name" --interval 500ms "$@" -- sleep 3 \
    >"$WORK/capped-$name.out" 2>"$WORK/capped-$name.err" &
  local rcpid=$! pid="" props="" cg="/system.slice/$unit" e prop value file got key
  for _ in $(seq 50); do
    pid=$(sed -n 's/.*(pid \([0-9]*\)) runs in scope .*/\1/p' "$WORK/capped-$name.err")
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || { wait "$rcpid" || true; fail "run-capped $* did not start its command in 5 s: $(cat "$WORK/capped-$name.err")"; }
  props=$(ct systemctl show -p ActiveState,ControlGroup,MemoryMax,MemoryHigh,MemorySwapMax "$unit" | paste -sd' ' -)
  echo "  while run-capped $* -- sleep 3 runs: $unit: $props; command pid $pid ($(ct cat "/proc/$pid/comm"))"
  ct sed 's/^/    \/proc\/PID\/cgroup: /' "/proc/$pid/cgroup"
  [[ " $props " == *" ActiveState=active "* && " $props " == *" ControlGroup=$cg "* ]] ||
    fail "scope $unit while the command runs: $props"
  [[ $(ct cat "/proc/$pid/comm") == sleep ]] || fail "pid $pid is not the command (sleep)"
  ct grep -qE "^(0::|[0-9]+:name=systemd:)$cg\$" "/proc/$pid/cgroup" || fail "pid $pid is not in $cg (systemd's hierarchy)"
  ct grep -qE "^$memcg_line:$cg\$" "/proc/$pid/cgroup" || fail "pid $pid is not in $cg in the memory controller's hierarchy"
  for e in "${expect[@]}"; do
    prop=${e%%=*} value=${e#*=}; file=${value#*@} value=${value%@*}
    [[ " $props " == *" $prop=$value "* ]] || fail "$unit: expected $prop=$value, got: $props"
    got=$(ct cat "$memcg_root$cg/$file")
    echo "  $memcg_root$cg/$file: $got"
    [[ $got == "$value" ]] || fail "$memcg_root$cg/$file is $got, expected $value"
  done
  RC=0
  wait "$rcpid" || RC=$?
  CAPPED_S=$(since "$t0")
  sed 's/^/    run-capped: /' "$WORK/capped-$name.err"
  [[ $RC -eq 0 ]] || fail "run-capped $* -- sleep 3: exit $RC: $(cat "$WORK/capped-$name.err")"
  local j
  j=$(ct cat "/root/capped-$name/run-capped.json" | jq -c '{budget, exit_code}')
  echo "  run-capped.json: $j"
  [[ $(jq -r .budget.backend <<<"$j") == systemd-scope && $(jq -r .budget.unit <<<"$j") == "$unit" &&
     $(jq -r .budget.cgroup <<<"$j") == "$cg" && $(jq -r .exit_code <<<"$j") == 0 ]] || fail "run-capped.json: $j"
  for e in "${expect[@]}"; do
    prop=${e%%=*} value=${e#*=}; value=${value%@*}
    case $prop in MemoryMax) key=memory_max ;; MemoryHigh) key=memory_high ;; MemorySwapMax) key=swap_max ;; esac
    [[ $(jq -r ".budget.applied.$key" <<<"$j") == "$value" ]] || fail "run-capped.json: applied $key is not $value: $j"
  done
  no_scope_left "$unit"
  echo "  exit 0 after $CAPPED_S s; $unit gone"
}

dump_diagnostics() {
  [[ -n $CPID ]] && kill -0 "$CPID" 2>/dev/null || { echo "--- console (tail):"; tail -40 "$WORK/console.log" 2>/dev/null; return 0; }
  echo "--- systemctl status tierscope:"
  CT_TIMEOUT=10 ct systemctl status --no-pager -l tierscope.service 2>&1 || true
  echo "--- journalctl -u tierscope (tail):"
  CT_TIMEOUT=10 ct journalctl --no-pager -o short-monotonic -u tierscope.service -n 60 2>&1 || true
  echo "--- journal warnings and errors of this boot (tail):"
  CT_TIMEOUT=10 ct journalctl --no-pager -b -p warning -n 30 2>&1 || true
  echo "--- failed units:"
  CT_TIMEOUT=10 ct systemctl --failed --no-pager 2>&1 || true
}
FAILED=0
fail() {
  echo "FAIL: $*" >&2
  if [[ $FAILED -eq 0 ]]; then FAILED=1; dump_diagnostics >&2 || true; fi
  exit 1
}

# The container's processes, found by their root directory (a stray one would
# keep the temp dir busy).
container_pids() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [[ $r == "$ROOT" || $r == "$ROOT"/* ]] && echo "${p#/proc/}"
  done
  return 0
}

stop_container() {
  [[ -n $NSPAWN_PID ]] && kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
  local t0 i
  t0=$(now)
  if [[ -n $CPID ]] && kill -0 "$CPID" 2>/dev/null; then
    CT_TIMEOUT=10 ct systemctl --no-block poweroff >/dev/null 2>&1 || true
  fi
  for i in $(seq 150); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$NSPAWN_PID" 2>/dev/null; then
    echo "container did not power off within 15 s: SIGTERM to systemd-nspawn" >&2
    kill -TERM "$NSPAWN_PID" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  if kill -0 "$NSPAWN_PID" 2>/dev/null; then
    echo "systemd-nspawn still running: SIGKILL to the container" >&2
    # Killing the init of a PID namespace kills every process in it.
    [[ -n $CPID ]] && kill -KILL "$CPID" 2>/dev/null || true
    kill -KILL "$NSPAWN_PID" 2>/dev/null || true
  fi
  wait "$NSPAWN_PID" 2>/dev/null || true
  echo "container stopped in $(since "$t0") s"
}

cleanup() {
  local rc=$?
  set +e
  stop_container
  local pids
  pids=$(container_pids)
  if [[ -n $pids ]]; then
    echo "killing stray container processes: $pids" >&2
    kill -KILL $pids 2>/dev/null
    sleep 0.5
  fi
  # Mounts left under the work dir (none expected: they die with the
  # container's mount namespace), deepest first.
  awk -v w="$WORK" '$2 == w || index($2, w "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  if [[ -n $MOUNTED_NSPAWN_TMPFS ]]; then
    umount /run/systemd/nspawn 2>/dev/null || umount -l /run/systemd/nspawn
    [[ -n $CREATED_NSPAWN_DIR ]] && rmdir /run/systemd/nspawn 2>/dev/null
  fi
  # systemd-nspawn without a host systemd (--keep-unit in the root cgroup)
  # leaves the payload/ and supervisor/ cgroups it made, and the container's
  # init.scope in them; remove ours (also below such cgroups that were there
  # before), deepest first.
  find /sys/fs/cgroup/payload /sys/fs/cgroup/supervisor /sys/fs/cgroup/*/payload /sys/fs/cgroup/*/supervisor \
       -depth -type d 2>/dev/null |
    while read -r d; do grep -qxF "$d" <<<"$CGROUPS_BEFORE" || rmdir "$d" 2>/dev/null; done
  # The v1 memory cgroups the legacy boot's systemd made (step 10), units'
  # names only, deepest first; those there before stay.
  if [[ -n $MEMCG_DIR && -d $MEMCG_DIR ]]; then
    find "$MEMCG_DIR" -mindepth 1 -depth -type d \( -name '*.slice' -o -name '*.scope' -o -name '*.service' \
         -o -name '*.mount' -o -name '*.socket' \) 2>/dev/null |
      while read -r d; do grep -qxF "$d" <<<"$MEMCG_BEFORE" || rmdir "$d" 2>/dev/null; done
  fi
  if [[ ${TIERSCOPE_KEEP_ROOT:-0} == 1 ]]; then
    echo "kept $WORK (TIERSCOPE_KEEP_ROOT=1)"
  elif ! awk -v w="$WORK" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
    rm -rf --one-file-system "$WORK"
  else
    echo "not removing $WORK: something is still mounted under it" >&2
  fi
  if [[ ${#TIMINGS[@]} -gt 0 ]]; then
    echo
    echo "=== timings ==="
    printf '  %s\n' "${TIMINGS[@]}"
    echo "  total: $(since "$T_ALL") s"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'fail "line $LINENO: \"$BASH_COMMAND\" exited with $?"' ERR
trap 'exit 130' INT TERM

echo "package: $DEB"
# Runtime dependencies of the package, versions and alternatives stripped.
DEPENDS=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/:any//; s/[[:space:]]//g' |
            grep -v '^$' | sort -u | paste -sd, -)
PACKAGES="systemd,systemd-sysv,dbus,curl,$DEPENDS"
echo "root file system: debootstrap --variant=minbase $SUITE ($ARCH) with $PACKAGES"

# ---- 0. the root file system ------------------------------------------------
step "0. root file system"
KEY=$(printf '%s\n' "$CACHE_FORMAT" "$SUITE" "$ARCH" "$MIRROR" minbase "$PACKAGES" | sha256sum | cut -c1-16)
TARBALL=$CACHE_DIR/root-$SUITE-$ARCH-$KEY.tar
mkdir -p "$ROOT"
if [[ -f $TARBALL ]] && tar -C "$ROOT" --numeric-owner --xattrs --xattrs-include='*' -xpf "$TARBALL"; then
  timing "root from cache (extract)" "$(since "$T_STEP")"
  echo "from cache $TARBALL"
else
  rm -rf --one-file-system "$ROOT"; mkdir -p "$ROOT"
  echo "no cached root for this package list: debootstrap (minutes)"
  timeout 420 debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" \
      >"$WORK/debootstrap.log" 2>&1 ||
    { tail -30 "$WORK/debootstrap.log" >&2; fail "debootstrap failed (log above; mirror $MIRROR)"; }
  timing "debootstrap (cold)" "$(since "$T_STEP")"
  T_SAVE=$(now)
  # Written under a temporary name and renamed, under a lock: a concurrent
  # run never extracts half a tarball.
  if mkdir -p "$CACHE_DIR" 2>/dev/null && exec 9>"$CACHE_DIR/.lock" && flock -w 120 9; then
    if tar -C "$ROOT" --numeric-owner --xattrs --xattrs-include='*' -cpf "$TARBALL.tmp.$$" . 2>/dev/null; then
      mv -f "$TARBALL.tmp.$$" "$TARBALL"
      for old in "$CACHE_DIR"/root-*.tar; do [[ $old == "$TARBALL" ]] || rm -f "$old"; done
      echo "cached as $TARBALL"
    else
      rm -f "$TARBALL.tmp.$$"; echo "note: could not write the cache $CACHE_DIR; not cached"
    fi
    exec 9>&-
  else
    echo "note: cache $CACHE_DIR not writable; not cached"
  fi
  timing "cache the root (tar)" "$(since "$T_SAVE")"
fi
cp "$DEB" "$ROOT/root/tierscope.deb"
echo "$MACHINE" >"$ROOT/etc/hostname"

# ---- boot -------------------------------------------------------------------
step "boot systemd in the container"
# systemd-nspawn keeps per-machine state under /run/systemd/nspawn; it must be
# a tmpfs (it is on a systemd host; where /run is not, mount one).
if ! mountpoint -q /run/systemd/nspawn && [[ $(stat -fc %T /run 2>/dev/null) != tmpfs ]]; then
  [[ -d /run/systemd/nspawn ]] || CREATED_NSPAWN_DIR=1
  mkdir -p /run/systemd/nspawn
  mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn
  MOUNTED_NSPAWN_TMPFS=1
fi
# Without systemd as the host's PID 1 there is no one to register the machine
# with or to allocate a scope from: --keep-unit (stay in our own cgroup).
# --private-network: the container's own loopback, so port 9847 never meets a
# daemon of the host.
NSPAWN_FLAGS=(--boot --register=no --private-network --console=passive "--machine=$MACHINE" -D "$ROOT")
[[ $(cat /proc/1/comm) == systemd ]] || NSPAWN_FLAGS+=(--keep-unit)
# DevicePolicy=/DeviceAllow= need, in the container's systemd, either a
# writable cgroup-v1 devices hierarchy (systemd-nspawn mounts the v1
# controllers read-only) or, on cgroup v2, BPF_PROG_TYPE_CGROUP_DEVICE
# programs, which need bpf(2) - not in systemd-nspawn's default seccomp
# allow-list. So: cgroup v2 in the container (as on a Debian 12 host; on a
# hybrid host nspawn would otherwise give it v1) and bpf(2) allowed. Neither
# touches the unit under test; without them its DevicePolicy=closed is
# silently not enforced (systemd logs "does not support BPF/cgroup
# firewalling" for units with IP firewalls, nothing for device policies).
NSPAWN_ENV=()
DEVICE_POLICY_ENFORCEABLE=""
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] ||
   [[ -d /sys/fs/cgroup/unified && $(stat -fc %T /sys/fs/cgroup/unified) == cgroup2fs ]]; then
  NSPAWN_ENV=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)
  NSPAWN_FLAGS+=(--system-call-filter=bpf)
  DEVICE_POLICY_ENFORCEABLE=1
fi
# boot_container [ENV=VALUE...]: boots the container (systemd-nspawn in the
# background, NSPAWN_FLAGS) and waits until its systemd is up; sets
# NSPAWN_PID, CPID and state.
boot_container() {
  CPID=""
  env "$@" systemd-nspawn "${NSPAWN_FLAGS[@]}" </dev/null >"$WORK/console.log" 2>&1 &
  NSPAWN_PID=$!
  # The container's PID 1: the child of systemd-nspawn, once it runs systemd.
  for _ in $(seq 100); do
    for c in $(cat "/proc/$NSPAWN_PID/task/$NSPAWN_PID/children" 2>/dev/null); do
      [[ $(cat "/proc/$c/comm" 2>/dev/null) == systemd ]] && CPID=$c
    done
    [[ -n $CPID ]] && break
    kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/console.log" >&2; fail "systemd-nspawn exited"; }
    sleep 0.1
  done
  [[ -n $CPID ]] || { cat "$WORK/console.log" >&2; fail "no systemd in the container after 10 s"; }
  state=""
  for _ in $(seq 120); do
    state=$(CT_TIMEOUT=5 ct systemctl is-system-running 2>/dev/null || true)
    [[ $state == running || $state == degraded ]] && break
    sleep 0.5
  done
  [[ $state == running || $state == degraded ]] || fail "the container did not finish booting within 60 s (state: $state)"
}
boot_container "${NSPAWN_ENV[@]}"
step_done "boot to $state"
echo "container PID 1: host pid $CPID, $(ct systemctl --version | head -1), state $state"
[[ $state == running ]] || { echo "note: failed units in the container:"; ct systemctl --failed --no-pager --plain || true; }
[[ $(ct cat /proc/1/comm) == systemd ]] || fail "PID 1 in the container is not systemd"
ct test -f /root/tierscope.deb || fail "nsenter did not land in the container's root"

# ---- 1. install -------------------------------------------------------------
step "1. dpkg -i: installs, enables and starts nothing, ships the conffile"
ct dpkg -i /root/tierscope.deb || fail "dpkg -i failed"
enabled=$(ct systemctl is-enabled tierscope.service || true)
active=$(ct systemctl is-active tierscope.service || true)
echo "is-enabled: $enabled; is-active: $active"
[[ $enabled == disabled ]] || fail "after dpkg -i the unit is '$enabled', expected disabled"
[[ $active == inactive ]] || fail "after dpkg -i the unit is '$active', expected inactive (nothing started)"
ct test -f "$CONF" || fail "no conffile $CONF"
ct dpkg-query -W -f='${Conffiles}\n' tierscope | grep -q "^ $CONF " || fail "$CONF is not a registered conffile"
for f in /usr/share/tierscope/grafana/dashboards/overview.json \
         /usr/share/tierscope/grafana/provisioning/dashboards/tierscope.yml \
         /usr/share/tierscope/grafana/provisioning/datasources/tierscope.yml \
         /usr/share/tierscope/grafana/rules/tierscope-alerts.yml \
         /usr/share/tierscope/grafana/rules/tierscope-rules.yml \
         /usr/share/doc/tierscope/examples/web-config.example.yml \
         /lib/systemd/system/tierscope-soak@.service \
         /usr/share/doc/tierscope/examples/scenarios/concurrency_sweep.yaml; do
  ct test -f "$f" || fail "the package does not install $f"
done
ct test -d /etc/tierscope/soak || fail "the package does not make /etc/tierscope/soak"
soak_units=$(ct systemctl list-units --all --plain --no-legend 'tierscope-soak@*' || true)
[[ -z $soak_units ]] || fail "soak units loaded after dpkg -i: $soak_units"
ct sh -c 'ls /etc/systemd/system/*.wants/ 2>/dev/null' | grep -q 'tierscope-soak@' && fail "dpkg -i enabled a soak unit"
echo "dashboards, provisioning, rules, the web config and scenario examples, the soak template and /etc/tierscope/soak installed; no soak unit enabled or loaded"
[[ $(show LoadState) == loaded ]] || fail "systemd does not know the unit after dpkg -i (postinst daemon-reload)"
verify=$(ct systemd-analyze verify tierscope.service 2>&1) || fail "systemd-analyze verify failed: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify tierscope.service is not clean: $verify"
echo "systemd-analyze verify tierscope.service: clean"
echo "# local edit by nspawn_systemd.sh" | ct tee -a "$CONF" >/dev/null
ct dpkg -i --force-confold /root/tierscope.deb || fail "reinstall (dpkg -i --force-confold) failed"
ct grep -q '^# local edit by nspawn_systemd.sh$' "$CONF" || fail "the local edit of $CONF did not survive a reinstall"
echo "conffile edit kept across a reinstall"
step_done "1. install, reinstall"

# ---- 2. start: READY after the listener, STATUS= ----------------------------
step "2. systemctl start returns after READY=1"
t0=$(now)
ct systemctl start tierscope.service || fail "systemctl start failed"
start_s=$(since "$t0")
states=$(ct systemctl show -p ActiveState,SubState tierscope.service | paste -sd' ' -)
curl_rc=0; ct curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$PORT/metrics" || curl_rc=$?
echo "systemctl start took $start_s s; right after: $states; curl /metrics rc=$curl_rc"
[[ $states == *ActiveState=active* && $states == *SubState=running* ]] || fail "right after start: $states"
[[ $curl_rc -eq 0 ]] || fail "/metrics did not answer right after systemctl start returned (curl rc $curl_rc)"
timing "2. systemctl start (to READY)" "$start_s"
ct journalctl --no-pager -o short-monotonic -u tierscope.service -b | sed 's/^/  journal: /'
# Anything the sandbox breaks shows up as a warning or error at start.
warnings=$(ct journalctl --no-pager -o cat -u tierscope.service -b -p warning "_PID=$(show MainPID)")
[[ -z $warnings ]] || echo "note: warnings at start under the sandbox: $warnings"
status=$(show StatusText)
echo "StatusText: $status"
[[ $status =~ ^sampling\ [0-9]+\ probes\ every\ 1s\;\ .+ ]] || fail "unexpected StatusText '$status'"
ct systemctl status --no-pager tierscope.service | sed 's/^/  /' | head -12
# The scrape above counts: within one status refresh (5 s) the text says so.
t0=$(now)
for _ in $(seq 40); do
  status=$(show StatusText)
  [[ $status =~ last\ scrape\ [0-9]+s\ ago ]] && break
  sleep 0.5
done
[[ $status =~ last\ scrape\ [0-9]+s\ ago ]] || fail "StatusText never said 'last scrape Ns ago': '$status'"
echo "after a scrape (+$(since "$t0") s): StatusText: $status"
# No scrape since: the next refresh (every 5 s) counts the seconds up.
for _ in $(seq 30); do
  status=$(show StatusText)
  [[ $status =~ last\ scrape\ ([0-9]+)s\ ago && ${BASH_REMATCH[1]} -ge 4 ]] && break
  sleep 0.5
done
[[ $status =~ last\ scrape\ ([0-9]+)s\ ago && ${BASH_REMATCH[1]} -ge 4 ]] || fail "StatusText did not count up: '$status'"
echo "without scrapes (+$(since "$t0") s): StatusText: $status"
step_done "2. start, status text"

# ---- 7. hardening under real systemd ----------------------------------------
step "7. the sandbox is in force, and /proc/meminfo metrics still work"
MAINPID=$(show MainPID)
ct systemctl show -p CapabilityBoundingSet,AmbientCapabilities,NoNewPrivileges,ProtectSystem,ProtectHome,PrivateTmp,RestrictNamespaces,MemoryDenyWriteExecute,SystemCallArchitectures,DevicePolicy tierscope.service | sed 's/^/  /'
ct grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$MAINPID/status" | sed 's/^/  \/proc\/MAINPID\/status: /'
capbnd=$(ct awk '/^CapBnd:/ { print $2 }' "/proc/$MAINPID/status")
[[ $((16#$capbnd)) -eq $((1 << 21)) ]] || fail "CapBnd $capbnd, expected only cap_sys_admin (0x200000)"
[[ $(ct awk '/^NoNewPrivs:/ { print $2 }' "/proc/$MAINPID/status") == 1 ]] || fail "NoNewPrivs is not 1"
[[ $(ct awk '/^Seccomp:/ { print $2 }' "/proc/$MAINPID/status") == 2 ]] || fail "no seccomp filter (Seccomp != 2)"
# ProtectSystem=strict: the daemon's view of / is read-only.
ct awk '$5 == "/" { print "  daemon mount namespace, /: " $6 }' "/proc/$MAINPID/mountinfo"
ct awk '$5 == "/" && $6 !~ /(^|,)ro(,|$)/ { exit 1 }' "/proc/$MAINPID/mountinfo" || fail "/ is writable for the daemon"
scrape >"$WORK/m.prom" || fail "scrape failed"
memtotal=$(ct awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
cap=$(value 'tierscope_memory_capacity_bytes{device="host",tier="ram"}' <"$WORK/m.prom") ||
  fail "no tierscope_memory_capacity_bytes{device=\"host\",tier=\"ram\"}"
[[ $(awk -v a="$cap" -v b="$memtotal" 'BEGIN { print (a == b) }') == 1 ]] || fail "ram capacity $cap != MemTotal $memtotal"
for m in tierscope_memory_available_bytes tierscope_memory_page_cache_bytes tierscope_meminfo_mem_total_bytes; do
  grep -q "^$m " "$WORK/m.prom" || fail "metric $m missing"
done
grep -E '^tierscope_(memory_capacity_bytes|memory_available_bytes|probe_success)' "$WORK/m.prom" | sed 's/^/  /'
for probe in meminfo vmstat pressure swaps diskstats; do
  [[ $(value "tierscope_probe_success{probe=\"$probe\"}" <"$WORK/m.prom") == 1 ]] || fail "probe $probe fails under the sandbox"
done
# The unit's device cgroup: where systemd could apply DevicePolicy=.
echo "  daemon cgroups: $(ct cat "/proc/$MAINPID/cgroup" | paste -sd' ' -)"
# DevicePolicy=closed is enforced: a transient service under each policy
# opens /dev/net/tun (systemd-nspawn gives the container one; it is not in
# DevicePolicy=closed's list), and a shell placed in tierscope.service's own
# cgroup (the BPF device program is attached there) may open /dev/null but
# not /dev/net/tun.
for policy in auto closed; do
  r=$(ct systemd-run --quiet --wait --pipe -p DevicePolicy=$policy \
        sh -c 'exec 3</dev/net/tun && echo opened' 2>&1 | tail -1 || true)
  echo "  transient unit with DevicePolicy=$policy, open /dev/net/tun: $r"
  [[ $policy == closed ]] && DEVICE_POLICY_PROBE=$r
done
unit_cg=$(ct awk -F: '$1 == "0" { print $3 }' "/proc/$MAINPID/cgroup")
# (Not through ct: from inside the container's cgroup namespace the kernel
# refuses to move a process that comes from outside it.)
r=$(timeout 10 nsenter -t "$CPID" -m -u -i -n -p env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && exec 3</dev/null 4</dev/net/tun && echo opened' sh "$unit_cg" 2>&1 |
    tail -1 || true)
echo "  in tierscope.service's cgroup ($unit_cg): /dev/null opens, /dev/net/tun: $r"
if [[ -n $DEVICE_POLICY_ENFORCEABLE ]]; then
  [[ $DEVICE_POLICY_PROBE == *"Operation not permitted"* ]] || fail "DevicePolicy=closed not enforced in a transient unit: '$DEVICE_POLICY_PROBE'"
  [[ $r == *"/dev/net/tun: Operation not permitted"* ]] || fail "tierscope.service's DevicePolicy=closed is not in force: '$r'"
else
  echo "  note: no cgroup v2 on this host: DevicePolicy= cannot be enforced in the container; not checked"
fi
echo "  systemd-analyze security (inside the container):"
ct systemd-analyze security --no-pager tierscope.service >"$WORK/security.txt" 2>&1 || true
grep -E '✗|Overall' "$WORK/security.txt" | sed 's/^/    /'
score=$(sed -n 's/.*Overall exposure level for tierscope.service: \([0-9.]*\).*/\1/p' "$WORK/security.txt")
[[ -n $score ]] || { cat "$WORK/security.txt"; fail "no score from systemd-analyze security"; }
echo "  exposure score in the container: $score"
awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "exposure $score > 3.0"
step_done "7. hardening checks"

# ---- 3. reload applies a changed config -------------------------------------
step "3. systemctl reload applies sample_interval 2s"
ok_before=$(scrape | value 'tierscope_config_reloads_total{result="success"}') || fail "no reload counter"
ct sed -i 's/^sample_interval: .*/sample_interval: 2s/' "$CONF"
t0=$(now)
ct systemctl reload tierscope.service || fail "systemctl reload failed"
applied=""
for _ in $(seq 50); do
  scrape >"$WORK/m.prom" 2>/dev/null || true
  ok=$(value 'tierscope_config_reloads_total{result="success"}' <"$WORK/m.prom" 2>/dev/null || echo "$ok_before")
  interval=$(value tierscope_sample_interval_seconds <"$WORK/m.prom" 2>/dev/null || echo "")
  status=$(show StatusText)
  if [[ $ok != "$ok_before" && $interval == 2 && $status == *"every 2s"* ]]; then applied=1; break; fi
  sleep 0.2
done
[[ -n $applied ]] || fail "reload not applied within 10 s (reloads ok $ok_before -> $ok, interval $interval, status '$status')"
echo "applied after $(since "$t0") s: reloads_total{success} $ok_before -> $ok, sample_interval_seconds $interval"
echo "StatusText: $status"
ct journalctl --no-pager -u tierscope.service -o cat | grep '^reloaded ' | tail -1 | sed 's/^/  journal: /'
ct journalctl --no-pager -u tierscope.service -o cat | grep -q '^reloaded .*every 2s' ||
  fail "no 'reloaded ... every 2s' journal line"
[[ $(show ActiveState) == active ]] || fail "not active after the reload"
step_done "3. reload"

# ---- 5. journal priorities ----------------------------------------------------
step "5. journal priorities: info 6, warn 4, error 3"
# A warning: a reload that changes the listen address (applies the rest, keeps
# serving the old address).
ct sed -i "s/^listen: .*/listen: 127.0.0.1:$((PORT + 1))/" "$CONF"
reload_and_wait success
# An error: an invalid config (sample_interval below 100ms) is rejected.
ct sed -i "s/^listen: .*/listen: 127.0.0.1:$PORT/; s/^sample_interval: .*/sample_interval: 5ms/" "$CONF"
reload_and_wait failure
states=$(ct systemctl show -p ActiveState,SubState tierscope.service | paste -sd' ' -)
[[ $states == *ActiveState=active* && $states == *SubState=running* ]] || fail "after a rejected reload: $states"
scrape | value tierscope_sample_interval_seconds | grep -qx 2 || fail "the running config changed on a rejected reload"
echo "after the rejected reload: $states, StatusText: $(show StatusText)"
ct journalctl --no-pager -u tierscope.service -b -o json >"$WORK/journal.json"
jq -r 'select(.SYSLOG_IDENTIFIER == "tierscope") | "PRIORITY=\(.PRIORITY) \(.MESSAGE)"' "$WORK/journal.json" >"$WORK/prio.txt"
sed 's/^/  /' "$WORK/prio.txt"
grep -q '^PRIORITY=6 listening on http://127.0.0.1:9847/metrics$' "$WORK/prio.txt" || fail "no 'listening on' line at PRIORITY=6"
grep -q '^PRIORITY=4 reload: listen address change to ' "$WORK/prio.txt" || fail "no listen-change warning at PRIORITY=4"
grep -q '^PRIORITY=3 reload rejected, keeping the running config: ' "$WORK/prio.txt" || fail "no 'reload rejected' at PRIORITY=3"
grep -q '^PRIORITY=[0-9] <' "$WORK/prio.txt" && fail "a '<N>' prefix reached the journal unparsed"
# Back to the shipped interval for the watchdog step.
ct sed -i 's/^sample_interval: .*/sample_interval: 1s/' "$CONF"
reload_and_wait success
for _ in $(seq 50); do [[ $(show StatusText) == *"every 1s"* ]] && break; sleep 0.2; done
[[ $(show StatusText) == *"every 1s"* ]] || fail "restoring sample_interval 1s did not apply"
step_done "5. priorities"

# ---- 4. watchdog --------------------------------------------------------------
step "4. watchdog: a stopped daemon is killed and restarted"
ct mkdir -p /etc/systemd/system/tierscope.service.d
printf '[Service]\nWatchdogSec=3s\n' | ct tee /etc/systemd/system/tierscope.service.d/wd.conf >/dev/null
ct systemctl daemon-reload
ct systemctl restart tierscope.service || fail "restart with WatchdogSec=3s failed"
[[ $(show WatchdogUSec) == 3s ]] || fail "WatchdogUSec is $(show WatchdogUSec), expected 3s"
old_pid=$(show MainPID)
old_restarts=$(show NRestarts)
sleep 4   # more than the timeout: the keep-alives are flowing
[[ $(show MainPID) == "$old_pid" ]] || fail "the daemon restarted on its own with WatchdogSec=3s (keep-alives missing?)"
ct journalctl --no-pager -u tierscope.service -o cat "_PID=$old_pid" | grep -i 'watchdog' | sed 's/^/  journal: /'
t0=$(now)
# (no /bin/kill in a minimal root: procps is not installed; the shell's builtin)
ct sh -c 'kill -STOP "$1"' sh "$old_pid"
killed_s="" new_pid=""
for _ in $(seq 150); do
  if [[ -z $killed_s ]] && ct journalctl --no-pager -u tierscope.service -o cat 2>/dev/null | grep -q 'Watchdog timeout'; then
    killed_s=$(since "$t0")
  fi
  p=$(show MainPID); sub=$(show SubState)
  if [[ $p != 0 && $p != "$old_pid" && $sub == running ]]; then new_pid=$p; break; fi
  sleep 0.1
done
restart_s=$(since "$t0")
[[ -n $new_pid ]] || fail "no new running daemon within 15 s of SIGSTOP (MainPID $(show MainPID), $(show SubState))"
new_restarts=$(show NRestarts)
echo "SIGSTOP pid $old_pid -> 'Watchdog timeout' in the journal after ${killed_s:-?} s -> new MainPID $new_pid running after $restart_s s; NRestarts $old_restarts -> $new_restarts"
[[ $new_restarts -gt $old_restarts ]] || fail "NRestarts did not increase"
ct journalctl --no-pager -u tierscope.service -o cat | grep -q 'Watchdog timeout' || fail "no 'Watchdog timeout' in the journal"
ct journalctl --no-pager -u tierscope.service -o short-monotonic -n 12 | sed 's/^/  journal: /'
awk -v s="$restart_s" 'BEGIN { exit !(s <= 10) }' || fail "watchdog restart took $restart_s s (> 10 s)"
timing "4. SIGSTOP -> Watchdog timeout" "${killed_s:-?}"
timing "4. SIGSTOP -> restarted and running" "$restart_s"
ct rm -rf /etc/systemd/system/tierscope.service.d
ct systemctl daemon-reload
ct systemctl restart tierscope.service || fail "restart with the shipped unit failed"
step_done "4. watchdog"

# ---- 6. stop ----------------------------------------------------------------
step "6. systemctl stop is fast and clean"
pid=$(show MainPID)
t0=$(now)
ct systemctl stop tierscope.service || fail "systemctl stop failed"
stop_s=$(since "$t0")
props=$(ct systemctl show -p ActiveState,SubState,Result,ExecMainCode,ExecMainStatus tierscope.service | paste -sd' ' -)
echo "systemctl stop took $stop_s s; then: $props"
ct journalctl --no-pager -u tierscope.service -o short-monotonic "_PID=$pid" -n 3 | sed 's/^/  journal: /'
# Result=success: a non-zero exit would be Result=exit-code and a failed unit.
# ExecMainCode is 1 (exited) with status 0, or 0 when systemd saw the cgroup
# empty before the SIGCHLD and recorded no exit status (the daemon's exit
# code 0 on SIGTERM is asserted by the e2e tests).
[[ $(show ActiveState) == inactive && $(show SubState) == dead && $(show Result) == success ]] ||
  fail "after stop: $props"
[[ $(show ExecMainStatus) == 0 ]] || fail "after stop: $props"
ct journalctl --no-pager -u tierscope.service -o cat "_PID=$pid" | grep -qx 'received SIGTERM, stopping' || fail "no 'received SIGTERM, stopping'"
ct journalctl --no-pager -u tierscope.service -o cat "_PID=$pid" | grep -qx 'stopped' || fail "no 'stopped'"
awk -v s="$stop_s" 'BEGIN { exit !(s < 1) }' || fail "systemctl stop took $stop_s s (>= 1 s)"
timing "6. systemctl stop" "$stop_s"
step_done "6. stop"

# ---- 11. the soak template (issue 11) -----------------------------------------
step "11. tierscope-soak@test: SIGKILL mid-run, restarted by systemd, finishes with one recording"
SOAK=tierscope-soak@test.service
SOAK_DIR=/var/lib/tierscope/soak/test
soak_show() { ct systemctl show -p "$1" --value "$SOAK"; }
verify=$(ct systemd-analyze verify "$SOAK" 2>&1) || fail "systemd-analyze verify $SOAK failed: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify $SOAK is not clean: $verify"
echo "systemd-analyze verify $SOAK: clean"
ct systemd-analyze security --no-pager "$SOAK" >"$WORK/soak-security.txt" 2>&1 || true
grep -E '✗|Overall' "$WORK/soak-security.txt" | sed 's/^/    /'
soak_score=$(sed -n "s/.*Overall exposure level for $SOAK: \([0-9.]*\).*/\1/p" "$WORK/soak-security.txt")
[[ -n $soak_score ]] || { cat "$WORK/soak-security.txt"; fail "no score from systemd-analyze security $SOAK"; }
echo "  exposure score of $SOAK in the container: $soak_score"
awk -v s="$soak_score" 'BEGIN { exit !(s <= 3.0) }' || fail "$SOAK exposure $soak_score > 3.0"
# 40 s of sampled time every 250 ms, no load: systemd-journald.service and
# tierscope itself; verdicts from 10 s of series on (the defaults want hours).
ct tee /etc/tierscope/soak/test.yaml >/dev/null <<'YAML'
scenario: soak
duration: 40s
idle_tail: 0s
workload: { systemd_units: [systemd-journald.service] }
sample_interval: 250ms
checkpoint_interval: 2s
leak: { min_duration: 10s, min_points: 10 }
record: { fsync_period: 1s }
listen: off
YAML
t0=$(now)
ct systemctl start "$SOAK" || { ct journalctl --no-pager -u "$SOAK" -n 30 || true; fail "systemctl start $SOAK failed"; }
soak_start_s=$(since "$t0")
states=$(ct systemctl show -p ActiveState,SubState,MainPID "$SOAK" | paste -sd' ' -)
echo "systemctl start took $soak_start_s s; right after: $states"
[[ $states == *ActiveState=active* && $states == *SubState=running* ]] || fail "$SOAK right after start: $states"
timing "11. start tierscope-soak@test (to READY)" "$soak_start_s"
# About 10 s into the run (soak.json checkpoints every 2 s), SIGKILL the main process.
elapsed=0
for _ in $(seq 100); do
  elapsed=$(ct cat "$SOAK_DIR/soak.json" 2>/dev/null | jq -r '.elapsed_s // 0' 2>/dev/null || echo 0)
  awk -v e="$elapsed" 'BEGIN { exit !(e >= 9) }' && break
  sleep 0.2
done
awk -v e="$elapsed" 'BEGIN { exit !(e >= 9) }' || fail "soak.json elapsed_s is $elapsed after 20 s"
old_pid=$(soak_show MainPID)
kill_wall=$(date +%s.%N)   # the container shares the host's clock
ct systemctl kill -s SIGKILL --kill-who=main "$SOAK"
t0=$(now)
new_pid=""
for _ in $(seq 300); do
  p=$(soak_show MainPID); sub=$(soak_show SubState)
  if [[ $p != 0 && $p != "$old_pid" && $sub == running ]]; then new_pid=$p; break; fi
  sleep 0.1
done
soak_restart_s=$(since "$t0")
[[ -n $new_pid ]] || fail "$SOAK not running again within 30 s of SIGKILL ($(ct systemctl show -p ActiveState,SubState,Result,NRestarts "$SOAK" | paste -sd' ' -))"
restarts=$(soak_show NRestarts)
echo "SIGKILL of pid $old_pid at soak.json elapsed_s $elapsed -> new MainPID $new_pid running after $soak_restart_s s (RestartSec=5s); NRestarts $restarts"
[[ $restarts -ge 1 ]] || fail "NRestarts is $restarts after the SIGKILL"
timing "11. SIGKILL -> restarted and running" "$soak_restart_s"
# The run then ends on its own: 40 s of sampled time in all.
t0=$(now)
for _ in $(seq 600); do
  [[ $(soak_show ActiveState) == inactive || $(soak_show ActiveState) == failed ]] && break
  sleep 0.2
done
props=$(ct systemctl show -p ActiveState,SubState,Result,ExecMainStatus,NRestarts "$SOAK" | paste -sd' ' -)
ct journalctl --no-pager -o short-monotonic -u "$SOAK" | tail -25 | sed 's/^/  journal: /'
echo "after the run: $props (ended $(since "$t0") s after the restart)"
[[ $(soak_show ActiveState) == inactive && $(soak_show Result) == success && $(soak_show ExecMainStatus) == 0 ]] ||
  fail "$SOAK did not end with exit 0: $props"
# (NRestarts reads 0 again once the unit is inactive: count systemd's restarts in the journal.)
scheduled=$(ct journalctl --no-pager -o cat -u "$SOAK" | grep -c 'Scheduled restart job' || true)
[[ $scheduled -eq 1 ]] || fail "$SOAK: $scheduled restarts scheduled by systemd, expected the one after the SIGKILL"
timing "11. restart -> run done" "$(since "$t0")"
ct cat "$SOAK_DIR/soak.json" >"$WORK/soak.json" || fail "no $SOAK_DIR/soak.json"
jq -c '{status, elapsed_s, samples, gaps}' "$WORK/soak.json" | sed 's/^/  soak.json: /'
jq -r '.series[] | "    \(.subject) \(.tier): \(.verdict) (\(.points) points)"' "$WORK/soak.json"
[[ $(jq -r .status "$WORK/soak.json") == done ]] || fail "soak.json status $(jq -r .status "$WORK/soak.json")"
jq -e '.elapsed_s >= 39' "$WORK/soak.json" >/dev/null || fail "soak.json elapsed_s $(jq .elapsed_s "$WORK/soak.json") < 40 s"
jq -e '(.series | length) > 0 and all(.series[]; (.subject | length) > 0 and (.tier | length) > 0 and
        (.verdict | IN("LEAK", "BOUNDED-GROWTH", "CLEAN", "INCONCLUSIVE")))' "$WORK/soak.json" >/dev/null ||
  fail "soak.json: a series without a subject, tier or verdict"
jq -e '[.series[].subject] | unique | length >= 2' "$WORK/soak.json" >/dev/null ||
  fail "soak.json: verdicts for $(jq -c '[.series[].subject] | unique' "$WORK/soak.json") only (expected the workload and tierscope)"
jq -e '(.gaps | length) >= 1' "$WORK/soak.json" >/dev/null || fail "soak.json records no gap after the SIGKILL"
# Every segment reads: the recording as tierscope reads it.
rec_rc=0
CT_TIMEOUT=30 ct tierscope recording "$SOAK_DIR" >"$WORK/recording.jsonl" 2>"$WORK/recording.err" || rec_rc=$?
sed 's/^/  /' "$WORK/recording.err"
[[ $rec_rc -eq 0 ]] || fail "tierscope recording $SOAK_DIR: exit $rec_rc"
read -r segments torn corrupt < <(sed -n 's/.*: \([0-9]*\) segments, .* \([0-9]*\) torn, \([0-9]*\) corrupt$/\1 \2 \3/p' "$WORK/recording.err")
[[ -n ${segments:-} ]] || fail "tierscope recording: no summary line"
(( segments >= 2 )) || fail "$segments segment(s): the restart did not resume in a new segment"
(( corrupt == 0 && torn <= 1 )) || fail "$torn torn and $corrupt corrupt lines in the recording"
ct sh -c "ls $SOAK_DIR" | paste -sd' ' - | sed 's/^/  files: /'
gap_from=$(jq -r 'select(.type == "gap") | .from_wall' "$WORK/recording.jsonl" | head -1)
[[ -n $gap_from ]] || fail "no gap record in the recording"
lost=$(awk -v k="$kill_wall" -v f="$gap_from" 'BEGIN { printf "%.2f", k - f }')
echo "  gap record from $gap_from: the last whole record $lost s before the SIGKILL (fsync_period 1s, samples every 250ms)"
awk -v l="$lost" 'BEGIN { exit !(l >= 0 && l <= 1.5) }' || fail "the gap starts $lost s before the kill (expected 0 to 1.5 s)"
ct rm -f /etc/tierscope/soak/test.yaml
step_done "11. soak under systemd"

# ---- 9. the memory budget through systemd (issue 10) --------------------------
step "9. run-capped: the memory budget as a transient scope of the container's systemd"
# systemd is PID 1 here, so run-capped's budget is a scope made through the
# system bus. Whether the kernel can enforce it depends on the container's
# cgroup v2 hierarchy: with the memory controller (a pure-v2 host, e.g.
# Debian 12) the scope gets MemoryMax and the command runs in it; without it
# (a hybrid host: the memory controller is bound to the v1 hierarchy, which
# the container does not see) run-capped must refuse before anything starts.
controllers=$(ct cat /sys/fs/cgroup/cgroup.controllers)
echo "  the container's cgroup v2 controllers: $controllers"
if grep -qw memory <<<"$controllers"; then
  CT_V2_MEMORY=1
  budget_applied nspawn 0: /sys/fs/cgroup MemoryMax=67108864@memory.max -- --memory-max 64M
  timing "9. run-capped -- sleep 3 in a scope" "$CAPPED_S"
  budget_applied nspawn-high 0: /sys/fs/cgroup MemoryMax=67108864@memory.max MemoryHigh=33554432@memory.high \
    MemorySwapMax=0@memory.swap.max -- --memory-max 64M --memory-high 32M --swap-max 0
else
  CT_V2_MEMORY=""
  msg='no memory controller: the cgroup v2 hierarchy has no "memory" in its cgroup.controllers and there is no cgroup v1 memory hierarchy under /sys/fs/cgroup'
  budget_refused nspawn "$msg" --memory-max 64M
  budget_refused nspawn-high "$msg" --memory-max 64M --memory-high 32M --swap-max 0
fi
step_done "9. memory budget (systemd)"

# ---- 8. upgrade, remove, purge ------------------------------------------------
step "8. upgrade keeps the edited conffile; remove stops; purge removes the conffile"
# A newer version of the same package whose shipped conffile differs: a real
# conffile conflict, settled by --force-confold without a prompt.
rm -rf "$WORK/repack"
dpkg-deb -R "$DEB" "$WORK/repack"
sed -i 's/^Version: .*/&+nspawn1/' "$WORK/repack/DEBIAN/control"
echo "# a new default in the upgraded package" >>"$WORK/repack/etc/tierscope/tierscope.yaml"
(cd "$WORK/repack" && md5sum $(awk '{ print $2 }' DEBIAN/md5sums) >DEBIAN/md5sums.new &&
   mv DEBIAN/md5sums.new DEBIAN/md5sums)
dpkg-deb -b --root-owner-group "$WORK/repack" "$ROOT/root/tierscope-upgrade.deb" >/dev/null
ct systemctl start tierscope.service
pid=$(show MainPID)
ct dpkg -i --force-confold /root/tierscope-upgrade.deb || fail "upgrade failed"
ct dpkg-query -W -f='${Version}\n' tierscope | sed 's/^/  installed version: /'
ct grep -q '^# local edit by nspawn_systemd.sh$' "$CONF" || fail "the local conffile edit did not survive the upgrade"
ct test -f "$CONF.dpkg-dist" || fail "no $CONF.dpkg-dist with the new default"
new_pid=$(show MainPID)
echo "upgrade: edit kept, new default as $CONF.dpkg-dist; running daemon restarted: MainPID $pid -> $new_pid ($(show SubState))"
[[ $new_pid != "$pid" && $new_pid != 0 && $(show SubState) == running ]] || fail "postinst did not restart the running daemon"
ct apt-get remove -y tierscope >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "apt-get remove failed"; }
props=$(ct systemctl show -p ActiveState,LoadState tierscope.service | paste -sd' ' -)
echo "after apt-get remove: $props; dpkg status: $(ct dpkg-query -W -f='${Status}' tierscope)"
[[ $(show ActiveState) == inactive && $(show LoadState) == not-found ]] || fail "after remove: $props"
ct journalctl --no-pager -u tierscope.service -o cat "_PID=$new_pid" | grep -qx 'stopped' || fail "prerm did not stop the daemon"
ct test ! -e /usr/bin/tierscope || fail "/usr/bin/tierscope still there after remove"
ct test -f "$CONF" || fail "remove (not purge) deleted the conffile"
ct dpkg -P tierscope || fail "dpkg -P failed"
ct test ! -e "$CONF" || fail "$CONF still there after purge"
ct test ! -e /etc/tierscope || fail "/etc/tierscope still there after purge: $(ct ls -A /etc/tierscope)"
echo "after dpkg -P: $CONF and /etc/tierscope gone"
step_done "8. upgrade, remove, purge"

# ---- 10. the memory budget through systemd on a cgroup v1 memory controller ----
# Where step 9 could only see the refusal (a hybrid host: the memory
# controller is bound to the v1 hierarchy), a second, short boot of the same
# root with the legacy hierarchy (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0) gives the
# container's systemd the v1 memory controller, as on a hybrid host where
# systemd is PID 1 - except that systemd-nspawn mounts it read-only:
#   a. read-only (as systemd-nspawn mounts it): refused before anything starts;
#   b. remounted read-write, but systemd decided at boot not to use it: the
#      scope is made (StartTransientUnit) and holds the command, but not in the
#      memory hierarchy: the read-back refuses, exit 1, the command never ran;
#   c. after `systemctl daemon-reexec` systemd uses it (MemoryMax= becomes
#      memory.limit_in_bytes): the success path of step 9, on v1;
#   d. memory_high and swap_max, which systemd applies only on cgroup v2, are
#      refused before anything starts.
if [[ -z $CT_V2_MEMORY && -f /sys/fs/cgroup/memory/memory.usage_in_bytes && -d /sys/fs/cgroup/systemd ]]; then
  step "10. run-capped through systemd on the cgroup v1 memory controller (second boot, legacy hierarchy)"
  stop_container
  boot_container SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0
  # The container's memory cgroups are made below this (the host's view of
  # its PID 1's memory cgroup); those it leaves are removed at the end.
  memcg=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$CPID/cgroup")
  MEMCG_DIR=/sys/fs/cgroup/memory${memcg%/}
  MEMCG_BEFORE=$(find "$MEMCG_DIR" -mindepth 1 -type d 2>/dev/null || true)
  timing "10. power off, boot again (legacy hierarchy)" "$(since "$T_STEP")"
  ct dpkg -i /root/tierscope.deb >/dev/null || fail "dpkg -i failed (legacy boot)"
  ct awk '$2 == "/sys/fs/cgroup/memory" { print "  in the container: " $0 }' /proc/self/mounts
  budget_refused v1-ro "cgroup v1 memory hierarchy /sys/fs/cgroup/memory is mounted read-only" --memory-max 64M
  nsenter -t "$CPID" -m mount -o remount,bind,rw,nosuid,nodev,noexec /sys/fs/cgroup/memory
  budget_refused v1-stale "not in scope tierscope-v1-stale-engine.scope" --memory-max 64M
  ct journalctl --no-pager -o cat -u tierscope-v1-stale-engine.scope | sed 's/^/    journal: /'
  ct journalctl --no-pager -o cat -u tierscope-v1-stale-engine.scope | grep -q 'Started tierscope-v1-stale-engine.scope' ||
    fail "the scope of the read-back refusal was never started"
  ct systemctl daemon-reexec
  for _ in $(seq 50); do
    [[ $(CT_TIMEOUT=5 ct systemctl is-system-running 2>/dev/null || true) =~ ^(running|degraded)$ ]] && break
    sleep 0.2
  done
  budget_applied v1 '[0-9]+:memory' /sys/fs/cgroup/memory MemoryMax=67108864@memory.limit_in_bytes -- --memory-max 64M
  timing "10. run-capped -- sleep 3 in a scope (v1)" "$CAPPED_S"
  budget_refused v1-high "memory_high: systemd applies MemoryHigh= only on cgroup v2" --memory-max 64M --memory-high 32M
  budget_refused v1-swap "swap_max: systemd applies MemorySwapMax= only on cgroup v2" --memory-max 64M --swap-max 0
  step_done "10. memory budget (systemd, cgroup v1)"
else
  echo
  echo "(10. skipped: $([[ -n $CT_V2_MEMORY ]] && echo "step 9 ran the success path on cgroup v2" ||
                          echo "no cgroup v1 memory and name=systemd hierarchies on this host"))"
fi

echo
echo "PASS: tierscope under systemd $(ct systemctl --version | head -1 | cut -d' ' -f2) as PID 1 (systemd-nspawn)"
