#!/usr/bin/env bash
# tierscope set-up on Debian 12. Installs exactly the Debian packages that are
# missing (as root with apt-get; otherwise it prints the one command to run),
# builds, and then runs what was asked for:
#
#   ./bootstrap.sh run     build and start `tierscope daemon` in the foreground
#                          with config/tierscope.yaml (http://127.0.0.1:9847/metrics)
#   ./bootstrap.sh test    build and run the whole test suite: GCC build with
#                          warnings as errors (all tiers, the system tests on a
#                          real systemd, a real kernel and Debian 13 included),
#                          then a clang ASan+UBSan build with the libFuzzer
#                          targets, then the arm64 cross build with its tests
#                          under qemu-aarch64, then the benchmark figures
#   ./bootstrap.sh deps [--tests]   only install what is missing
#   ./bootstrap.sh bench   build and print the benchmark figures only
#   ./bootstrap.sh package [ARCH]   build-ARCH/tierscope_<version>_ARCH.deb for
#                          this machine, or cross-compiled for ARCH (arm64)
#
# Environment: JOBS (parallel build jobs, default: number of CPUs),
# TIERSCOPE_FUZZ_SECONDS (per fuzz target in `test`, default 15).
set -euo pipefail
cd "$(dirname "$0")"

# The libraries tierscope builds against: their -dev packages, for the host
# (BUILD_PACKAGES) and, unpacked into a sysroot, for a cross build.
LIB_DEV_PACKAGES=(prometheus-cpp-dev libsystemd-dev libnvme-dev nlohmann-json3-dev libzstd-dev libyaml-cpp-dev
                  libcurl4-openssl-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev zlib1g-dev libssl-dev)
BUILD_PACKAGES=(g++ cmake make pkg-config dpkg-dev "${LIB_DEV_PACKAGES[@]}")
TEST_PACKAGES=(libgtest-dev prometheus jsonnet fio jq curl openssl util-linux stress-ng prometheus-node-exporter clang wrk
               libclang-rt-14-dev debootstrap systemd-container qemu-system-x86 busybox-static prometheus-pushgateway
               chromium python3 ccache)
# `test` also cross-builds for arm64 and runs those tests under qemu-user.
CROSS_TEST_PACKAGES=(crossbuild-essential-arm64 qemu-user-static mmdebstrap)
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
  [[ -n ${APT_UPDATED:-} ]] || { apt-get update -q; APT_UPDATED=1; }
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ccache, when installed (`test` installs it): the compile cache lives in
# CCACHE_DIR (for `test` as root, /var/cache/tierscope/ccache unless set),
# with paths relative to the checkout, so a fresh clone of the same sources
# compiles from it. TIERSCOPE_CCACHE=off builds without it.
configure_and_build() {  # DIR [CMAKE ARGS...]
  local dir=$1; shift
  local launcher=()
  if [[ ${TIERSCOPE_CCACHE:-on} != off ]] && command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
  fi
  cmake -S . -B "$dir" "${launcher[@]}" "$@"
  cmake --build "$dir" -j "$JOBS"
}

# ---- packages for this machine or another architecture -----------------------
HOST_ARCH=$(dpkg --print-architecture)

arch_triplet() { dpkg-architecture -a "$1" -qDEB_HOST_MULTIARCH 2>/dev/null; }   # arm64 -> aarch64-linux-gnu
arch_cpu() { dpkg-architecture -a "$1" -qDEB_HOST_GNU_CPU 2>/dev/null; }         # arm64 -> aarch64 (qemu-aarch64)

# The archive of this machine's release for ARCH, as sources lines
# (TIERSCOPE_SYSROOT_SOURCES, one line each, overrides them).
sysroot_sources() {  # ARCH
  if [[ -n ${TIERSCOPE_SYSROOT_SOURCES:-} ]]; then printf '%s\n' "$TIERSCOPE_SYSROOT_SOURCES"; return; fi
  local id codename base=""
  id=$(. /etc/os-release; echo "$ID"); codename=$(. /etc/os-release; echo "$VERSION_CODENAME")
  case "$id:$1" in
    debian:*)
      echo "deb http://deb.debian.org/debian $codename $codename-updates main"
      echo "deb http://deb.debian.org/debian-security $codename-security main" ;;
    ubuntu:amd64|ubuntu:i386) base=http://archive.ubuntu.com/ubuntu ;;&
    ubuntu:*)
      echo "deb ${base:-http://ports.ubuntu.com/ubuntu-ports} $codename $codename-updates $codename-security main universe" ;;
    *) echo "no archive known for $id; set TIERSCOPE_SYSROOT_SOURCES" >&2; return 1 ;;
  esac
}

# A sysroot for a cross build: the target architecture's -dev packages (and
# what they depend on) unpacked, not installed, by mmdebstrap; only usr/ and
# lib/ are kept, so that qemu-user's -L never takes its /etc, /dev or /tmp for
# this machine's. Kept while the package list and sources are the same.
make_sysroot() {  # ARCH DIR
  local arch=$1 dir=$2 key codename link
  local pkgs=("${LIB_DEV_PACKAGES[@]}" libgtest-dev)
  local sources; mapfile -t sources < <(sysroot_sources "$arch")
  codename=$(. /etc/os-release; echo "$VERSION_CODENAME")
  key=$(printf '%s\n' "$arch" "$codename" "${pkgs[@]}" "${sources[@]}" | sha256sum | cut -c1-16)
  if [[ -f $dir/.tierscope-sysroot && $(<"$dir/.tierscope-sysroot") == "$key" ]]; then
    echo "== sysroot $dir (kept)"; return 0
  fi
  echo "== sysroot for $arch in $dir: ${pkgs[*]} (mmdebstrap, unpacked only)"
  rm -rf "$dir" "$dir.tmp"
  mmdebstrap --quiet --mode=root --variant=extract --architectures="$arch" \
    --include="$(IFS=,; echo "${pkgs[*]}")" "$codename" "$dir.tmp" "${sources[@]}"
  rm -rf "$dir.tmp"/{dev,etc,tmp,var,run,proc,sys}
  # Absolute symlinks (libz.so -> /lib/...) are made relative, inside the sysroot.
  while IFS= read -r link; do
    ln -sfnr "$dir.tmp$(readlink "$link")" "$link"
  done < <(find "$dir.tmp" -type l -lname '/*')
  echo "$key" >"$dir.tmp/.tierscope-sysroot"
  mv "$dir.tmp" "$dir"
}

# A CMake toolchain file for ARCH: Debian's cross compiler, the sysroot's
# headers after its own C library and libstdc++, the sysroot's libraries for
# the linker and pkg-config, and qemu-user to run what was built (tests).
write_toolchain() {  # ARCH SYSROOT FILE
  local triplet cpu; triplet=$(arch_triplet "$1"); cpu=$(arch_cpu "$1")
  cat >"$3" <<EOF
# Written by bootstrap.sh: tierscope for $1 ($triplet), against $2.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $cpu)
set(CMAKE_C_COMPILER $triplet-gcc)
set(CMAKE_CXX_COMPILER $triplet-g++)
set(CMAKE_LIBRARY_ARCHITECTURE $triplet)
set(CMAKE_FIND_ROOT_PATH $2)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_C_FLAGS_INIT "-idirafter $2/usr/include/$triplet -idirafter $2/usr/include")
set(CMAKE_CXX_FLAGS_INIT "-idirafter $2/usr/include/$triplet -idirafter $2/usr/include")
foreach(kind EXE SHARED MODULE)
  set(CMAKE_\${kind}_LINKER_FLAGS_INIT "-Wl,-rpath-link,$2/usr/lib/$triplet -Wl,-rpath-link,$2/lib/$triplet")
endforeach()
# QEMU_LD_PREFIX, not -L: processes a test starts (through binfmt_misc) inherit it.
set(CMAKE_CROSSCOMPILING_EMULATOR env QEMU_LD_PREFIX=$2 TIERSCOPE_TEST_EMULATOR=qemu-$cpu qemu-$cpu-static)
set(ENV{PKG_CONFIG_LIBDIR} "$2/usr/lib/$triplet/pkgconfig:$2/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "$2")
set(TIERSCOPE_DEB_ARCH $1)
set(TIERSCOPE_QEMU_LD_PREFIX $2)
set(TIERSCOPE_TEST_EMULATOR qemu-$cpu)
EOF
}

# Packages of this release (as this machine's package database names them)
# that ship the shared libraries tierscope's binaries in DIR need.
needed_packages() {  # ARCH DIR
  local readelf soname hosttriplet owner
  readelf=$(arch_triplet "$1")-readelf; command -v "$readelf" >/dev/null || readelf=readelf
  hosttriplet=$(arch_triplet "$HOST_ARCH")
  for soname in $("$readelf" -d "$2"/tierscope "$2"/tierscope-workloads 2>/dev/null |
                  sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
    owner=$(dpkg-query -S "/usr/lib/$hosttriplet/$soname" "/lib/$hosttriplet/$soname" 2>/dev/null | head -1 || true)
    [[ -n $owner ]] && echo "${owner%%:*}"
  done | sort -u
}

# ./bootstrap.sh package [ARCH]: build-ARCH/tierscope_<version>_ARCH.deb.
package_deb() {  # [ARCH]
  local arch=${1:-$HOST_ARCH} dir deb
  dir=build-$arch
  if ! [[ $arch =~ ^[a-z0-9]+$ ]] || [[ -z $(arch_triplet "$arch") ]]; then
    echo "unknown architecture: $arch (Debian's names: amd64, arm64, ...)" >&2; exit 64
  fi
  install_missing "${BUILD_PACKAGES[@]}"
  # Debian's -O2; no debug info (the package's binaries are stripped).
  local args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG"
              -DTIERSCOPE_TESTS="${TIERSCOPE_PACKAGE_TESTS:-OFF}" -DTIERSCOPE_WERROR="${TIERSCOPE_PACKAGE_WERROR:-OFF}")
  if [[ $arch != "$HOST_ARCH" ]]; then
    install_missing "crossbuild-essential-$arch" qemu-user-static mmdebstrap
    mkdir -p "$dir"
    make_sysroot "$arch" "$PWD/$dir/sysroot"
    write_toolchain "$arch" "$PWD/$dir/sysroot" "$dir/toolchain.cmake"
    args+=(-DCMAKE_TOOLCHAIN_FILE="$PWD/$dir/toolchain.cmake")
  fi
  configure_and_build "$dir" "${args[@]}"
  if [[ $arch != "$HOST_ARCH" ]]; then
    # dpkg-shlibdeps reads the target architecture's library packages from
    # this machine's package database: their runtime packages, through multiarch.
    local needed; mapfile -t needed < <(needed_packages "$arch" "$dir")
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      [[ $(id -u) -eq 0 ]] || { echo "run as root: dpkg --add-architecture $arch" >&2; exit 1; }
      dpkg --add-architecture "$arch"; APT_UPDATED=""
    fi
    install_missing "${needed[@]/%/:$arch}"
  fi
  rm -f "$dir"/tierscope_*.deb
  (cd "$dir" && DEB_HOST_ARCH=$arch cpack -G DEB)
  deb=$(ls "$dir"/tierscope_*_"$arch".deb)
  echo "== $deb"
  dpkg-deb -f "$deb" Package Version Architecture Depends
}

# Stage banners with the time each took (printed again in the summary).
STAGE_TIMES=()
STAGE_NAME="" STAGE_START=$SECONDS
stage() {
  [[ -n $STAGE_NAME ]] && STAGE_TIMES+=("$(printf '%5d s  %s' $((SECONDS - STAGE_START)) "$STAGE_NAME")")
  STAGE_NAME=$1 STAGE_START=$SECONDS
  echo "== $1"
}
ctest_result() { grep -E 'tests passed|tests failed' "$1" | tail -1; }

# The kernel runs ARCH's binaries through qemu-user: Debian's binfmt_misc
# entry for it (qemu-user-static), registered when missing (root).
register_binfmt() {  # ARCH
  local cpu dir=/proc/sys/fs/binfmt_misc conf
  cpu=$(arch_cpu "$1"); conf=/usr/lib/binfmt.d/qemu-$cpu.conf
  [[ -e $dir/qemu-$cpu ]] && return 0
  [[ $(id -u) -eq 0 && -f $conf ]] || return 1
  [[ -e $dir/register ]] || mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null || return 1
  grep -v '^#' "$conf" >"$dir/register" 2>/dev/null || return 1
  echo "== registered $conf with binfmt_misc"
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
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${CROSS_TEST_PACKAGES[@]}"
    [[ $(id -u) -eq 0 ]] && export CCACHE_DIR=${CCACHE_DIR:-/var/cache/tierscope/ccache}
    command -v ccache >/dev/null && ccache --max-size=8G >/dev/null
    mkdir -p build
    summary=()
    # The Debian 13 root of the system tier's system_trixie_build downloads
    # while the first build compiles (tests/system/trixie_build.sh --prepare).
    if [[ $(id -u) -eq 0 ]]; then
      bash tests/system/trixie_build.sh --prepare >build/trixie-prepare.log 2>&1 &
      prepare_pid=$!
    fi
    stage "GCC build, warnings as errors"
    # No debug info in the test builds' optimized code (nothing here reads
    # it; the compile is a fifth faster); the sanitizer build keeps line
    # tables for its stack traces, at ASan's recommended -O1.
    configure_and_build build -DTIERSCOPE_TESTS=ON -DTIERSCOPE_WERROR=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG"
    [[ -n ${prepare_pid:-} ]] && { wait "$prepare_pid" || true; cat build/trixie-prepare.log; }
    ctest --test-dir build --output-on-failure -LE bench | tee build/ctest.log
    summary+=("gcc:         $(ctest_result build/ctest.log)")
    stage "clang build with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer"
    CC=clang CXX=clang++ configure_and_build build-asan -DTIERSCOPE_TESTS=ON -DTIERSCOPE_WERROR=ON \
      -DTIERSCOPE_SANITIZE=ON -DTIERSCOPE_FUZZ=ON -DTIERSCOPE_FUZZ_SECONDS="${TIERSCOPE_FUZZ_SECONDS:-15}" \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
    # The libFuzzer runs side by side (one core each); then every other test
    # one at a time, as in the GCC stage (the accuracy tests time requests).
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L fuzz | tee build-asan/ctest-fuzz.log
    ctest --test-dir build-asan --output-on-failure -LE 'bench|system|fuzz' | tee build-asan/ctest.log
    unset ASAN_OPTIONS UBSAN_OPTIONS
    summary+=("asan+ubsan:  $(ctest_result build-asan/ctest.log)")
    summary+=("  fuzz:      $(ctest_result build-asan/ctest-fuzz.log)")
    stage "arm64: cross build, .deb, tests under qemu-aarch64"
    TIERSCOPE_PACKAGE_TESTS=ON TIERSCOPE_PACKAGE_WERROR=ON package_deb arm64
    labels='unit|e2e'
    register_binfmt arm64 || { labels=unit; echo "note: no binfmt_misc entry for arm64; the e2e tests are left out"; }
    ctest --test-dir build-arm64 --output-on-failure -j "$JOBS" -L "$labels" | tee build-arm64/ctest.log
    summary+=("arm64/qemu:  $(ctest_result build-arm64/ctest.log)")
    stage "benchmark figures (printed, never asserted)"
    ctest --test-dir build --output-on-failure -V -L bench | tee build/bench.log
    summary+=("bench:       $(ctest_result build/bench.log)")
    stage "summary"
    printf '%s\n' "${summary[@]}"
    printf '%s\n' "${STAGE_TIMES[@]}"
    ;;
  package)
    package_deb "${2:-}"
    ;;
  bench)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    configure_and_build build -DTIERSCOPE_TESTS=ON
    ctest --test-dir build --output-on-failure -V -L bench
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    [[ -z "$cmd" || "$cmd" == -h || "$cmd" == --help ]] && exit 0
    exit 64
    ;;
esac
