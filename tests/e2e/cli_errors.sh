#!/usr/bin/env bash
# Every error path of the command line and the config file, run through the
# real binary: exit code (64 usage, 78 config, 1 runtime), exactly one line on
# stderr that names what is wrong, and nothing started.
# Usage: cli_errors.sh TIERSCOPE_BINARY
source "$(dirname "$0")/lib.sh"
bin=$1
checks=0

# expect CODE 'stderr fragment' ARGS...: runs BIN ARGS (1 s limit) and checks.
expect() {
  local want=$1 fragment=$2; shift 2
  local rc=0
  timeout 5 "$bin" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$TMP/err" >&2; fail "tierscope $*: exit $rc, expected $want"; }
  if [[ -n "$fragment" ]]; then
    grep -qF -- "$fragment" "$TMP/err" || { cat "$TMP/err" >&2; fail "tierscope $*: stderr lacks '$fragment'"; }
    [[ $(wc -l <"$TMP/err") -eq 1 ]] || { cat "$TMP/err" >&2; fail "tierscope $*: expected one stderr line"; }
  fi
  checks=$((checks + 1))
}

expect 0 "" --version
grep -q '^tierscope [0-9]' "$TMP/out" || fail "--version output"
expect 0 "" --help
expect 0 "" daemon --help
grep -q -- '--listen HOST:PORT' "$TMP/out" || fail "daemon --help lacks --listen"
expect 0 "" probe --help
expect 0 "" env --help
grep -q -- '--model FILE' "$TMP/out" || fail "env --help lacks --model"
expect 64 "missing command" 
expect 64 "unknown command 'deamon'; did you mean 'daemon'?" deamon
expect 64 "daemon: unknown option '--lisen'; did you mean '--listen'?" daemon --lisen 127.0.0.1:1
expect 64 "daemon: --listen: expected HOST:PORT" daemon --listen 9847
expect 64 "daemon: --config needs a value (FILE)" daemon --config
expect 64 "probe: --format: expected prometheus or json, got \"xml\"" probe --format xml
expect 64 "env: --format: expected yaml or json, got \"prometheus\"" env --format prometheus
expect 64 "no help for 'frobnicate'" help frobnicate

# Config errors: file:line:column, key, what was expected; exit 78; no listener.
bad() { printf '%s\n' "$2" >"$TMP/$1.yaml"; echo "$TMP/$1.yaml"; }
f=$(bad unknown $'listen: 127.0.0.1:0\nsample_intervall: 1s')
expect 78 "$f:2:1: sample_intervall: unknown key; did you mean \"sample_interval\"?" daemon --config "$f"
f=$(bad range 'sample_interval: 10ms')
expect 78 "$f:1:18: sample_interval: expected a duration from 100ms to 60s" daemon --config "$f"
f=$(bad nested $'probes:\n  nvme: sometimes')
expect 78 "$f:2:9: probes.nvme: expected true or false, got \"sometimes\"" daemon --config "$f"
f=$(bad regex $'diskstats:\n  device_exclude: "[a-"')
expect 78 "$f:2:19: diskstats.device_exclude: expected a regular expression" daemon --config "$f"
f=$(bad window $'sample_interval: 5s\npeak_window: 1s')
expect 78 "$f:2:14: peak_window: expected at least sample_interval (5s), got 1s" daemon --config "$f"
f=$(bad syntax 'probes: {meminfo: true')
expect 78 "$f:" daemon --config "$f"
grep -q 'YAML syntax error' "$TMP/err" || fail "syntax error not named"
expect 78 "$TMP/absent.yaml: cannot read the config file: No such file or directory" daemon --config "$TMP/absent.yaml"
expect 78 "sample_intervall: unknown key" probe --config "$TMP/unknown.yaml"

# Runtime failures: a port in use (exit 1, names the address); a probe that
# fails in `probe` (exit 1, output still printed).
# (NVMe health reads off: the fixture has no /dev/nvme0, and the warning
# about that would be a second stderr line.)
fixture_config phison-host "$TMP/ok.yaml" "nvme: {health_interval: off}"
start_daemon "$bin" "$TMP/ok.yaml"
expect 1 "cannot listen on 127.0.0.1:$PORT" daemon --config "$TMP/ok.yaml" --listen "127.0.0.1:$PORT"

# bench: a scenario that launches its engine, refused before anything starts (78).
launch_scenario() {  # FILE MODEL LIMITS ARGV0
  printf 'engine:\n  kind: llamacpp\n  launch: {argv: ["%s", -m, "{model}"], model: "%s"}\n%s\nscenario: context_sweep\ncontexts: [128]\n' \
    "$4" "$2" "$3" >"$1"
}
printf 'GGUF\003\000\000\000\377\377\377\377\377\377\377\377' >"$TMP/hostile.gguf"   # v3, a tensor count of 2^64-1, then EOF
launch_scenario "$TMP/gguf.yaml" "$TMP/hostile.gguf" "" /bin/true
expect 78 "engine.launch.model: " bench "$TMP/gguf.yaml" --out "$TMP/never"
[[ ! -e $TMP/never ]] || fail "a hostile GGUF model: the run directory was made"
launch_scenario "$TMP/nomodel.yaml" "$TMP/absent.gguf" "" /bin/true
expect 78 "engine.launch.model" bench "$TMP/nomodel.yaml" --out "$TMP/never"
launch_scenario "$TMP/limits.yaml" "$TMP/hostile.gguf" "limits: {memory_maxx: 1G}" /bin/true
expect 78 "limits.memory_maxx: unknown key" bench "$TMP/limits.yaml" --out "$TMP/never"
launch_scenario "$TMP/small.yaml" "$TMP/hostile.gguf" "limits: {memory_max: 10}" /bin/true
expect 78 "limits.memory_max: expected a size from 4M" bench "$TMP/small.yaml" --out "$TMP/never"
launch_scenario "$TMP/empty.yaml" "$TMP/hostile.gguf" "" ""
expect 78 "engine.launch.argv" bench "$TMP/empty.yaml" --out "$TMP/never"
[[ ! -e $TMP/never ]] || fail "a refused scenario made its run directory"
expect 64 "--memory-max: expected at least 4M" run-capped --memory-max 10 -- /bin/true
# soak: usage, scenario errors (78), an unwritable --out (73), a finished run's directory (64).
expect 0 "" soak --help
grep -q -- '--out DIR' "$TMP/out" || fail "soak --help lacks --out"
expect 64 "soak: missing the scenario file (tierscope soak SCENARIO.yaml)" soak
expect 64 "soak: unknown option '--url'" soak x.yaml --url http://127.0.0.1:1
printf 'scenario: soak\nidle_tail: 0s\n' >"$TMP/soak_noduration.yaml"
expect 78 "duration: missing" soak "$TMP/soak_noduration.yaml" --out "$TMP/never"
printf 'scenario: soak\nduration: 5m\nidle_tail: 10m\n' >"$TMP/soak_tail.yaml"
expect 78 "$TMP/soak_tail.yaml:3:12: idle_tail: 600s leaves no time" soak "$TMP/soak_tail.yaml" --out "$TMP/never"
printf 'engine: {kind: llamacpp, url: "http://127.0.0.1:1"}\nscenario: protocol\n' >"$TMP/protocol.yaml"
expect 78 "a soak needs scenario: soak" soak "$TMP/protocol.yaml" --out "$TMP/never"
[[ ! -e $TMP/never ]] || fail "a refused soak scenario made its run directory"
printf 'scenario: soak\nduration: 1s\nidle_tail: 0s\n' >"$TMP/soak_1s.yaml"
expect 78 "scenario: soak runs with tierscope soak" bench "$TMP/soak_1s.yaml" --out "$TMP/never"
[[ ! -e $TMP/never ]] || fail "bench made the run directory of a soak scenario"
expect 73 "/dev/null/soak" soak "$TMP/soak_1s.yaml" --out /dev/null/soak
printf '{"name":"x","scenario_sha256":"0","status":"done","started":"","updated":"","elapsed_s":1,"duration_s":1,"idle_tail_s":0,"samples":1,"requests_ok":0,"requests_failed":0,"output_tokens":0,"engine_restarts":0,"gaps":[]}\n' \
  | { mkdir -p "$TMP/finished"; cat >"$TMP/finished/soak.json"; }
expect 64 "this run is finished" soak "$TMP/soak_1s.yaml" --out "$TMP/finished"
stop_daemon
rc=0
"$bin" probe --procfs "$TMP/empty" --sysfs "$TMP/empty" --interval 100ms >"$TMP/out" 2>"$TMP/err" || rc=$?
[[ $rc -eq 1 ]] || fail "probe on an empty procfs: exit $rc, expected 1"
grep -q 'tierscope_probe_success{probe="meminfo"} 0' "$TMP/out" || fail "probe output lacks the failed probe"
grep -q 'probe meminfo failed: .*meminfo: No such file or directory' "$TMP/err" || fail "probe failure not logged"
checks=$((checks + 1))

# probe --format json on the fixture host is valid JSON with the metric names.
fix=$TIERSCOPE_SOURCE_DIR/tests/fixtures/phison-host
"$bin" probe --procfs "$fix/proc" --sysfs "$fix/sys" --devfs "$fix/dev" --format json --interval 100ms >"$TMP/p.json"
jq -e '.metrics[] | select(.name == "tierscope_nvme_info") | .samples[] | select(.labels.phison == "true") | .labels.controller == "nvme0"' \
  "$TMP/p.json" >/dev/null || fail "probe --format json lacks the Phison controller"
jq -e '.interval_seconds == 0.1 and (.timestamp > 1e9)' "$TMP/p.json" >/dev/null || fail "probe json header"
checks=$((checks + 1))
echo "PASS: $checks command-line and config checks"
