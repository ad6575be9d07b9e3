#!/usr/bin/env bash
# system_trixie_build: tierscope built from this checkout against Debian 13
# (trixie)'s compiler and libraries, and its unit tests run there.
#
# Debian 13 ships library series close to what Ubuntu 24.04 (and DGX OS on
# it) builds on: gcc 14, libnvme 1.13, yaml-cpp 0.8, libcurl 8, systemd 257,
# OpenSSL 3.5; Debian 12 (the host) ships the older ones (gcc 12, libnvme
# 1.3, yaml-cpp 0.7, libcurl 7.88, systemd 252). One source builds on
# both: this test is the proof for the newer set.
#
#   1. A trixie root from debootstrap (minbase) with the build's -dev
#      packages (bootstrap.sh's LIB_DEV_PACKAGES: the same names resolve on
#      both releases) plus g++, cmake, GoogleTest and ccache, made once and
#      kept under ${TIERSCOPE_SYSTEM_CACHE:-/var/cache/tierscope-system-tests}/trixie/,
#      keyed by suite, architecture, mirror and package list.
#   2. In a private mount namespace: the checkout (and ../shared, read-only,
#      when present) bound into that root, a fresh build directory, and
#      chroot: cmake with warnings as errors, the whole project built
#      (-O1, no debug info), then `ctest -L unit` (the gtest suites, minus
#      the source checks that need host tools: include rules, Grafana lints,
#      systemd-analyze).
#   3. The versions built against are printed (dpkg-query in the root), and
#      written to BUILD_LOG_DIR/trixie-versions.txt when that is set.
#
# The compile cache (ccache) of the chroot's compiler lives beside the root,
# so a run on unchanged sources compiles nothing. Nothing else persists: the
# namespace's mounts vanish with it and the build directory is removed.
#
# Usage: trixie_build.sh [--prepare] [SOURCE_DIR]
#   --prepare  only make (or check) the cached root; bootstrap.sh test runs
#              this in the background while its first build compiles.
# Needs root, debootstrap, unshare, chroot, flock and the Debian mirror (for a
# cold cache only); skips (77) otherwise.
# Environment: TIERSCOPE_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# TIERSCOPE_SYSTEM_CACHE, JOBS (default nproc), BUILD_LOG_DIR.
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

prepare_only=""
if [[ ${1:-} == --prepare ]]; then prepare_only=1; shift; fi
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(realpath "${1:-$HERE/../..}")
[[ -f $SRC/CMakeLists.txt && -f $SRC/bootstrap.sh ]] || fail "$SRC is not a tierscope checkout"

[[ $(id -u) -eq 0 ]] || skip "needs root (debootstrap, chroot, mount namespace)"
for tool in debootstrap unshare chroot flock sha256sum mount; do
  command -v "$tool" >/dev/null || skip "$tool not installed (Debian: debootstrap, util-linux)"
done

SUITE=trixie
MIRROR=${TIERSCOPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ARCH=$(dpkg --print-architecture)
JOBS=${JOBS:-$(nproc)}
CACHE=${TIERSCOPE_SYSTEM_CACHE:-/var/cache/tierscope-system-tests}/trixie
CACHE_FORMAT=v1   # bump when what the root holds changes

# The library -dev packages, from the one list bootstrap.sh installs on the host.
eval "$(sed -n '/^LIB_DEV_PACKAGES=(/,/)/p' "$SRC/bootstrap.sh")"
[[ ${#LIB_DEV_PACKAGES[@]} -gt 0 ]] || fail "no LIB_DEV_PACKAGES in $SRC/bootstrap.sh"
PACKAGES=(g++ cmake make pkg-config ccache libgtest-dev "${LIB_DEV_PACKAGES[@]}")

KEY=$(printf '%s\n' "$CACHE_FORMAT" "$SUITE" "$ARCH" "$MIRROR" "${PACKAGES[@]}" | sha256sum | cut -c1-16)
ROOT=$CACHE/root-$KEY
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 900 9 || fail "another run holds $CACHE/.lock"

now() { date +%s; }
T0=$(now)

# ---- 1. the root -----------------------------------------------------------
if [[ ! -f $ROOT/.tierscope-complete ]]; then
  echo "== debootstrap $SUITE ($ARCH) from $MIRROR into $ROOT"
  rm -rf "$ROOT" "$ROOT.tmp"
  # Roots of other keys (an older package list) are not needed any more.
  find "$CACHE" -maxdepth 1 -name 'root-*' -type d -exec rm -rf {} + 2>/dev/null || true
  timeout 900 debootstrap --variant=minbase "$SUITE" "$ROOT.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -30 "$CACHE/debootstrap.log" >&2; fail "debootstrap $SUITE failed (log: $CACHE/debootstrap.log)"; }
  echo "== apt-get install ${PACKAGES[*]}"
  cp /etc/resolv.conf "$ROOT.tmp/etc/resolv.conf" 2>/dev/null || true
  timeout 1200 unshare -m bash -c '
    set -e
    root=$1; shift
    mount --make-rprivate /
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
      sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends \"\$@\" && apt-get clean" sh "$@"
  ' sh "$ROOT.tmp" "${PACKAGES[@]}" >"$CACHE/apt.log" 2>&1 ||
    { tail -30 "$CACHE/apt.log" >&2; fail "apt-get install in the $SUITE root failed (log: $CACHE/apt.log)"; }
  touch "$ROOT.tmp/.tierscope-complete"
  mv "$ROOT.tmp" "$ROOT"
  echo "== $SUITE root ready in $(( $(now) - T0 )) s ($(du -sm "$ROOT" | cut -f1) MiB)"
else
  echo "== $SUITE root from the cache: $ROOT"
fi

# The versions this build is against.
versions() {
  chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}\n' \
    gcc-14 cmake libgtest-dev "${LIB_DEV_PACKAGES[@]}" 2>/dev/null || true
}
echo "== $SUITE versions"
versions | tee "${BUILD_LOG_DIR:-$CACHE}/trixie-versions.txt"
[[ -n $prepare_only ]] && exit 0

# ---- 2. build and unit tests in the root ------------------------------------
# Build directories left by a run that was killed (the lock says none runs).
find "$CACHE" -maxdepth 1 -name 'work.*' -type d -exec rm -rf {} + 2>/dev/null || true
WORK=$(mktemp -d "$CACHE/work.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$CACHE/ccache"
SHARED=$(realpath -m "$SRC/../shared")
T_BUILD=$(now)
echo "== build and unit tests in the $SUITE root (source $SRC, -j$JOBS)"
# The checkout lands at /w/tierscope and ../shared at /w/shared, so the
# paths the tests build in (CMAKE_SOURCE_DIR/../shared) hold there as here.
mkdir "$WORK/build"
cat >"$WORK/inner.sh" <<'INNER'
set -euo pipefail
root=$1 src=$2 shared=$3 work=$4 cache=$5 jobs=$6
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t sysfs -o ro sysfs "$root/sys"
for d in tmp var/tmp root; do mount -t tmpfs tmpfs "$root/$d"; done
mkdir -p "$root/w" "$root/ccache"
mount -t tmpfs tmpfs "$root/w"
mkdir -p "$root/w/tierscope" "$root/w/shared" "$root/w/build"
mount --bind "$src" "$root/w/tierscope" && mount -o remount,bind,ro "$root/w/tierscope"
if [[ -d $shared ]]; then mount --bind "$shared" "$root/w/shared" && mount -o remount,bind,ro "$root/w/shared"; fi
mount --bind "$work" "$root/w/build"
mount --bind "$cache" "$root/ccache"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
  CCACHE_DIR=/ccache CCACHE_BASEDIR=/w CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=4G JOBS="$jobs" bash -c '
  set -euo pipefail
  cd /w/build
  cmake -S /w/tierscope -B . -DTIERSCOPE_TESTS=ON -DTIERSCOPE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache >configure.log 2>&1 ||
    { cat configure.log; exit 1; }
  grep -E "^-- (Found|Checking for module)|prometheus|libnvme" configure.log || true
  if ! cmake --build . -j "$JOBS" >build.log 2>&1; then
    grep -E -A15 "error:|\*\*\*" build.log | head -150
    echo "FAIL: the build on trixie"; exit 1
  fi
  echo "compiler warnings: $(grep -c "warning:" build.log || true)"
  ccache -s 2>/dev/null | grep -iE "hits|misses" || true
  echo "== ctest -L unit"
  ctest --output-on-failure -j "$JOBS" -L unit -E "^(include_rules|grafana_|units_security)" 2>&1 | tee ctest.log
'
INNER
rc=0
unshare -m bash "$WORK/inner.sh" "$ROOT" "$SRC" "$SHARED" "$WORK/build" "$CACHE/ccache" "$JOBS" </dev/null || rc=$?
echo "== $SUITE: build and tests took $(( $(now) - T_BUILD )) s (all: $(( $(now) - T0 )) s)"
[[ $rc -eq 0 ]] || fail "the $SUITE build or its unit tests failed (exit $rc)"
echo "PASS: tierscope builds with warnings as errors and passes its unit tests on Debian $SUITE"
