#!/usr/bin/env bash
# tierscope set-up on Debian 12. Installs exactly the Debian packages that are
# missing (as root with apt-get; otherwise it prints the one command to run),
# builds, and then runs what was asked for:
#
#   ./bootstrap.sh run     build and start `tierscope daemon` in the foreground
#                          with config/tierscope.yaml (http://127.0.0.1:9847/metrics)
#   ./bootstrap.sh test    build and run the whole test suite: GCC build with
#                          warnings as errors (all tiers, the system tests on a
#                          real systemd and a real kernel included), then a clang
#                          ASan+UBSan build with the libFuzzer targets, then the
#                          benchmark figures
#   ./bootstrap.sh deps [--tests]   only install what is missing
#   ./bootstrap.sh bench   build and print the benchmark figures only
#
# Environment: JOBS (parallel build jobs, default: number of CPUs),
# TIERSCOPE_FUZZ_SECONDS (per fuzz target in `test`, default 15).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(g++ cmake make pkg-config dpkg-dev prometheus-cpp-dev libsystemd-dev libnvme-dev nlohmann-json3-dev libzstd-dev
                libyaml-cpp-dev libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev zlib1g-dev
                libssl-dev)
TEST_PACKAGES=(libgtest-dev prometheus jsonnet fio jq curl openssl util-linux stress-ng prometheus-node-exporter clang wrk
               libclang-rt-14-dev debootstrap systemd-container qemu-system-x86 busybox-static prometheus-pushgateway
               chromium python3)
JOBS=${JOBS:-$(nproc)}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

install_missing() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "tierscope needs these Debian packages; install them, then run this again:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

configure_and_build() {  # DIR [CMAKE ARGS...]
  local dir=$1; shift
  cmake -S . -B "$dir" "$@"
  cmake --build "$dir" -j "$JOBS"
}

cmd=${1:-}
case "$cmd" in
  deps)
    if [[ ${2:-} == --tests ]]; then install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    else install_missing "${BUILD_PACKAGES[@]}"; fi
    ;;
  run)
    install_missing "${BUILD_PACKAGES[@]}"
    configure_and_build build -DTIERSCOPE_TESTS=OFF
    echo "== starting tierscope daemon (Ctrl-C stops it); metrics on http://127.0.0.1:9847/metrics"
    exec ./build/tierscope daemon --config config/tierscope.yaml
    ;;
  test)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    summary=()
    echo "== GCC build, warnings as errors"
    configure_and_build build -DTIERSCOPE_TESTS=ON -DTIERSCOPE_WERROR=ON
    ctest --test-dir build --output-on-failure -LE bench | tee build/ctest.log
    summary+=("gcc:         $(grep -E 'tests passed|tests failed' build/ctest.log | tail -1)")
    echo "== clang build with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer"
    CC=clang CXX=clang++ configure_and_build build-asan -DTIERSCOPE_TESTS=ON -DTIERSCOPE_WERROR=ON \
      -DTIERSCOPE_SANITIZE=ON -DTIERSCOPE_FUZZ=ON -DTIERSCOPE_FUZZ_SECONDS="${TIERSCOPE_FUZZ_SECONDS:-15}"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -LE 'bench|system' | tee build-asan/ctest.log
    summary+=("asan+ubsan:  $(grep -E 'tests passed|tests failed' build-asan/ctest.log | tail -1)")
    echo "== benchmark figures (printed, never asserted)"
    ctest --test-dir build --output-on-failure -V -L bench | tee build/bench.log
    summary+=("bench:       $(grep -E 'tests passed|tests failed' build/bench.log | tail -1)")
    echo "== summary"
    printf '%s\n' "${summary[@]}"
    ;;
  bench)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    configure_and_build build -DTIERSCOPE_TESTS=ON
    ctest --test-dir build --output-on-failure -V -L bench
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    [[ -z "$cmd" || "$cmd" == -h || "$cmd" == --help ]] && exit 0
    exit 64
    ;;
esac
