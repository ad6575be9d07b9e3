#!/usr/bin/env bash
# The same exposition from both architectures: `tierscope probe --procfs …
# --sysfs …` of the cross-built binary (under qemu-user) and of this
# machine's build, on the same fixture host, normalized like the golden tests
# (series whose values vary from run to run reduced away) and diffed. Cases:
#   phison-host   the Phison aiDAPTIV fixture (meminfo … NVMe identity, health
#                 log and offload verdict from the fixture's sysfs and devfs)
#   gpu-gb10      the fake NVML of each architecture in its GB10 mode
#                 (tests/fixtures/nvml/gb10.json: unified memory), with the
#                 workload's processes from the fdinfo-host fixture
# Usage: parity.sh CROSS_TIERSCOPE HOST_TIERSCOPE CROSS_FAKE_NVML HOST_FAKE_NVML
# The host build is the one bootstrap.sh test builds first (build/); skips
# (77) when it is absent or the cross binary cannot run here (no binfmt_misc
# entry for its architecture).
set -euo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
skip() { echo "SKIP: $*"; exit 77; }
[[ $# -eq 4 ]] || fail "usage: $0 CROSS_TIERSCOPE HOST_TIERSCOPE CROSS_FAKE_NVML HOST_FAKE_NVML"
cross=$1 host=$2 cross_nvml=$3 host_nvml=$4
[[ -x $host && -f $host_nvml ]] || skip "no host build at $host (build it first: TIERSCOPE_PARITY_BUILD)"
"$cross" --version >/dev/null 2>&1 || skip "$cross does not run here (binfmt_misc has no entry for it: see tests/cross/README.md)"
file "$cross" "$host" 2>/dev/null | sed 's/, BuildID[^,]*//' || true

fixtures=$TIERSCOPE_SOURCE_DIR/tests/fixtures
varying='^(process_[a-z_]+|tierscope_probe_duration_seconds|tierscope_samples_total|tierscope_sample_overruns_total|tierscope_last_sample_timestamp_seconds|tierscope_build_info)[{ ]'

# probe_case NAME BIN FAKE_NVML PROC_HOST SYS_HOST [CONFIG_LINES]: the normalized exposition in $TMP/NAME.prom
probe_case() {
  local name=$1 bin=$2 nvml=$3 proc=$fixtures/$4 sys=$fixtures/$5 extra=${6:-}
  printf 'sample_interval: 100ms\n%s\n' "${extra//@NVML@/$nvml}" >"$TMP/$name.yaml"
  "$bin" probe --config "$TMP/$name.yaml" --procfs "$proc/proc" --sysfs "$sys/sys" --devfs "$proc/dev" \
    >"$TMP/$name.raw" 2>"$TMP/$name.err" || fail "$name: $bin probe exited $?: $(cat "$TMP/$name.err")"
  grep -Ev "$varying" "$TMP/$name.raw" >"$TMP/$name.prom" || true
  [[ -s $TMP/$name.prom ]] || fail "$name: $bin printed no stable series"
}

cases=0
compare() {  # NAME PROC_HOST SYS_HOST [CONFIG_LINES]
  local name=$1; shift
  probe_case "$name-cross" "$cross" "$cross_nvml" "$@"
  probe_case "$name-host" "$host" "$host_nvml" "$@"
  diff -u "$TMP/$name-host.prom" "$TMP/$name-cross.prom" ||
    fail "$name: the cross-built binary's exposition differs from this machine's (above: - host, + cross)"
  echo "ok: $name: $(grep -vc '^#' "$TMP/$name-cross.prom") series identical on both architectures"
  cases=$((cases + 1))
}

compare phison-host phison-host phison-host
FAKE_NVML_SCENARIO=$fixtures/nvml/gb10.json compare gpu-gb10 fdinfo-host fdinfo-host \
  "probes: {meminfo: false, vmstat: false, pressure: false, swaps: false, diskstats: false, nvme: false}
gpu: {nvml_library: @NVML@}
workload: {pids: [4242, 4243], process_names: [ollama]}"
grep -q 'memory_model="unified"' "$TMP/gpu-gb10-cross.prom" || fail "gpu-gb10: no unified-memory GPU in the exposition"
echo "PASS: $cases cases, the same exposition from $(basename "$cross") on both architectures"
