#!/usr/bin/env bash
# `tierscope env` through the real binaries (tierscope execs
# tierscope-workloads): the machine manifest of the phison-host fixture as
# JSON (jq) and YAML, facts the fixture lacks absent rather than 0, the model
# section of ../shared/models/stories260K.gguf when it is there, and the exit
# codes of bad flags, a bad config and an unreadable model.
# Usage: env.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
checks=0
fix=$TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host
roots=(--procfs "$fix/proc" --sysfs "$fix/sys" --devfs "$fix/dev")
printf 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' >"$TMP/os-release"
# NVML reads the real driver whatever the roots; NVMe health needs /dev nodes.
printf 'probes: {gpu_nvml: false}\nnvme: {health_interval: off}\n' >"$TMP/config.yaml"
args=("${roots[@]}" --os-release "$TMP/os-release" --config "$TMP/config.yaml")

"$bin" env --format json "${args[@]}" >"$TMP/env.json" 2>"$TMP/err" || fail "env --format json: exit $?: $(cat "$TMP/err")"
[[ ! -s "$TMP/err" ]] || fail "env wrote to stderr: $(cat "$TMP/err")"
jq -e '.machine.memory.ram_total_bytes == 130023424 * 1024' "$TMP/env.json" >/dev/null || fail "ram_total_bytes"
jq -e '[.machine.memory.swap_areas[].filename] == ["/dev/nvme0n1p3", "/mnt/offload/swapfile"]' "$TMP/env.json" >/dev/null \
  || fail "swap areas"
jq -e '.machine.nvme[] | select(.name == "nvme0") | .phison == true and .pci_vendor == "0x1987" and .model == "PHISON AI100E 2TB"' \
  "$TMP/env.json" >/dev/null || fail "Phison controller"
jq -e '.machine.nvme[] | select(.name == "nvme1") | .phison == false' "$TMP/env.json" >/dev/null || fail "Samsung controller"
jq -e '.machine.distro == {"id": "debian", "version_id": "12", "version_codename": "bookworm", "source": "'"$TMP/os-release"'"}' \
  "$TMP/env.json" >/dev/null || fail "distro"
# The fixture has no cpuinfo, kernel sysctls or cgroup mount: absent, never 0 or "".
jq -e '.machine.cpu == {} and .machine.kernel == {} and .machine.cgroup == {} and .machine.gpus == []' "$TMP/env.json" \
  >/dev/null || fail "facts the fixture lacks are not absent: $(jq -c '.machine | {cpu, kernel, cgroup, gpus}' "$TMP/env.json")"
jq -e '.machine.probe_errors == [] and .manifest_version == 1 and (has("model") | not)' "$TMP/env.json" >/dev/null || fail "header"
jq -e '.tierscope.libraries.libcurl.source == "runtime" and .tierscope.libraries.openssl.source == "runtime"
       and (.tierscope.version | length > 0)' "$TMP/env.json" >/dev/null || fail "tierscope section"
checks=$((checks + 1))

# YAML by default; the same facts, strings that look like numbers quoted.
"$bin" env "${args[@]}" >"$TMP/env.yaml" || fail "env (yaml): exit $?"
grep -q '^machine:$' "$TMP/env.yaml" || fail "yaml: no machine section"
grep -q 'pci_vendor: "0x1987"' "$TMP/env.yaml" || fail "yaml: pci_vendor not quoted"
grep -q 'version_id: "12"' "$TMP/env.yaml" || fail "yaml: version_id not quoted"
grep -q 'ram_total_bytes: 133143986176$' "$TMP/env.yaml" || fail "yaml: ram_total_bytes"
checks=$((checks + 1))

# The model section on the real model file beside the checkout.
model=$TIERSCOPE_SOURCE_DIR/../shared/models/stories260K.gguf
if [[ -f "$model" ]]; then
  "$bin" env --format json --model "$model" "${args[@]}" >"$TMP/model.json" || fail "env --model: exit $?"
  want=$(sha256sum "$model" | cut -d' ' -f1)
  jq -e --arg sha "$want" '.model.sha256 == $sha and .model.sha256_source == "computed"
        and .model.gguf.architecture == "llama" and .model.gguf.block_count == 5
        and .model.gguf.kv_bytes_per_token.f16 == 640' "$TMP/model.json" >/dev/null \
    || fail "model section: $(jq -c .model "$TMP/model.json")"
  checks=$((checks + 1))
else
  echo "note: $model is absent; the model section is checked by the unit tests only"
fi

# A real captured host (../shared/fixtures, see its README): its cpuinfo is
# an Intel laptop's, 8 threads on 4 cores of one socket; the values are
# those of its proc/cpuinfo and proc/meminfo.
captured=$TIERSCOPE_SOURCE_DIR/../shared/fixtures/captured-hosts.tar.gz
if [[ -f "$captured" ]]; then
  mkdir "$TMP/captured"
  tar -xzf "$captured" -C "$TMP/captured"
  host=$TMP/captured/node_exporter-host
  "$bin" env --format json --procfs "$host/proc" --sysfs "$host/sys" --devfs "$TMP/captured" --config "$TMP/config.yaml" \
    --os-release "$TMP/os-release" >"$TMP/captured.json" || fail "env on the captured host: exit $?"
  jq -e '.machine.cpu == {"logical_cpus": 8, "physical_cores": 4, "sockets": 1, "topology_source": "cpuinfo", "vendor_id": "GenuineIntel",
         "model_name": "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", "flags_field": "flags",
         "flags_of_interest": ["avx", "avx2", "fma", "f16c"]}' "$TMP/captured.json" >/dev/null \
    || fail "captured cpuinfo: $(jq -c .machine.cpu "$TMP/captured.json")"
  jq -e '.machine.memory.ram_total_bytes == 3742148 * 1024' "$TMP/captured.json" >/dev/null || fail "captured meminfo"
  checks=$((checks + 1))
else
  echo "note: $captured is absent; skipped the captured-host check"
fi

# Errors: one stderr line, the exit code, nothing printed.
expect() {
  local want=$1 fragment=$2; shift 2
  local rc=0
  timeout 10 "$bin" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$TMP/err" >&2; fail "tierscope $*: exit $rc, expected $want"; }
  grep -qF -- "$fragment" "$TMP/err" || { cat "$TMP/err" >&2; fail "tierscope $*: stderr lacks '$fragment'"; }
  [[ $(wc -l <"$TMP/err") -eq 1 ]] || { cat "$TMP/err" >&2; fail "tierscope $*: expected one stderr line"; }
  [[ ! -s "$TMP/out" ]] || fail "tierscope $*: printed a manifest"
  checks=$((checks + 1))
}
expect 64 "env: --format: expected yaml or json, got \"xml\"" env --format xml
expect 64 "env: unknown option '--modle'; did you mean '--model'?" env --modle x
expect 64 "env: --model needs a value (FILE)" env --model
expect 1 "tierscope env: --model $TMP/absent.gguf: No such file or directory" env --model "$TMP/absent.gguf" "${args[@]}"
mkfifo "$TMP/fifo"
expect 1 "tierscope env: --model $TMP/fifo: not a regular file" env --model "$TMP/fifo" "${args[@]}"
printf 'probes: {gpu_nvml: maybe}\n' >"$TMP/bad.yaml"
expect 78 "probes.gpu_nvml: expected true or false" env --config "$TMP/bad.yaml"
echo "PASS: $checks env checks"
