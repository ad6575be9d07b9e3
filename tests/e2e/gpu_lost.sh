#!/usr/bin/env bash
# A GPU that falls off the bus while the daemon runs, through the real binary
# and the fake libnvidia-ml: the NVML probe fails (counted, logged once), its
# series vanish, every other probe goes on, and when the GPU answers again the
# probe recovers by itself.
# Usage: gpu_lost.sh TIERSCOPE_BINARY FAKE_NVML_LIBRARY
source "$(dirname "$0")/lib.sh"
bin=$1 lib=$2
scenario=$TMP/scenario.json
cp "$TIERSCOPE_SOURCE_DIR/tests/fixtures/nvml/h100.json" "$scenario"
export FAKE_NVML_SCENARIO=$scenario
fixture_config phison-host "$TMP/config.yaml" "gpu: {nvml_library: $lib, process_interval: 100ms}"
start_daemon "$bin" "$TMP/config.yaml"
wait_samples 3
scrape >"$TMP/a.prom"
[[ $(value "$TMP/a.prom" 'tierscope_probe_success{probe="gpu_nvml"}') == 1 ]] || fail "gpu_nvml not succeeding at start"
[[ $(value "$TMP/a.prom" 'tierscope_gpu_power_watts{gpu="nvidia0"}') == 312.456 ]] || fail "power at start"

# The GPU falls off the bus.
sed 's/"name": "NVIDIA H100 80GB HBM3",/"error": "GPU_IS_LOST", "name": "x",/' \
  "$TIERSCOPE_SOURCE_DIR/tests/fixtures/nvml/h100.json" >"$TMP/lost.json"
mv "$TMP/lost.json" "$scenario"
wait_log 'probe gpu_nvml failed: NVML: .* returned GPU_IS_LOST; re-initialising with backoff'
n=$(value "$TMP/poll.prom" tierscope_samples_total)
wait_samples $((${n%.*} + 20))  # 2 s at 100 ms: several re-initialisation attempts
scrape >"$TMP/b.prom"
[[ $(value "$TMP/b.prom" 'tierscope_probe_success{probe="gpu_nvml"}') == 0 ]] || fail "gpu_nvml should fail while lost"
grep -q '^tierscope_gpu_power_watts' "$TMP/b.prom" && fail "series of a lost GPU still exported"
grep -q '^tierscope_gpu_probe_errors_total{call="[A-Za-z_0-9]*",error="GPU_IS_LOST",vendor="nvidia"}' "$TMP/b.prom" \
  || fail "GPU_IS_LOST not counted"
[[ $(value "$TMP/b.prom" 'tierscope_probe_success{probe="meminfo"}') == 1 ]] || fail "other probes affected"
grep -q '^tierscope_memory_capacity_bytes{device="host",tier="ram"}' "$TMP/b.prom" || fail "host series missing"
[[ $(grep -c 'probe gpu_nvml failed' "$LOG") -eq 1 ]] || fail "the failure should be logged once, not per retry"

# It comes back.
cp "$TIERSCOPE_SOURCE_DIR/tests/fixtures/nvml/h100.json" "$TMP/back.json"
mv "$TMP/back.json" "$scenario"
wait_log 'probe gpu_nvml recovered'
scrape >"$TMP/c.prom"
[[ $(value "$TMP/c.prom" 'tierscope_probe_success{probe="gpu_nvml"}') == 1 ]] || fail "gpu_nvml did not recover"
[[ $(value "$TMP/c.prom" 'tierscope_gpu_power_watts{gpu="nvidia0"}') == 312.456 ]] || fail "power after recovery"
stop_daemon
echo "PASS: lost GPU counted, logged once, isolated, and recovered"
