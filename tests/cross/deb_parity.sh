#!/usr/bin/env bash
# The cross-built package against this machine's: `dpkg-deb -I` says the
# target's Architecture, the file lists are the same, and Depends (from
# dpkg-shlibdeps) names the C library and libnvme's package.
# Usage: deb_parity.sh CROSS_BUILD_DIR HOST_BUILD_DIR ARCH. The cross package
# is CROSS_BUILD_DIR/tierscope_*_ARCH.deb (bootstrap.sh package ARCH); this
# machine's is the newest tierscope_*.deb in HOST_BUILD_DIR, its system-deb/
# (the system tier's package) or build-<host arch>/ beside it. Skips (77)
# when either is absent.
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || fail "usage: $0 CROSS_BUILD_DIR HOST_BUILD_DIR ARCH"
cross_dir=$1 host_dir=$2 arch=$3
host_arch=$(dpkg --print-architecture)
cross_deb=$(ls -t "$cross_dir"/tierscope_*_"$arch".deb 2>/dev/null | head -1 || true)
[[ -n $cross_deb ]] || skip "no $cross_dir/tierscope_*_$arch.deb (./bootstrap.sh package $arch makes it)"
host_deb=$(ls -t "$host_dir"/tierscope_*_"$host_arch".deb "$host_dir"/system-deb/tierscope_*_"$host_arch".deb \
             "$host_dir"/../build-"$host_arch"/tierscope_*_"$host_arch".deb 2>/dev/null | head -1 || true)
[[ -n $host_deb ]] || skip "no $host_arch package beside $host_dir (cpack there, or ./bootstrap.sh package)"
echo "cross: $cross_deb"; echo "host:  $host_deb"
dpkg-deb -I "$cross_deb"

got=$(dpkg-deb -f "$cross_deb" Architecture)
[[ $got == "$arch" ]] || fail "Architecture: $got, expected $arch"
[[ $(dpkg-deb -f "$host_deb" Architecture) == "$host_arch" ]] || fail "the host package is not $host_arch"
for f in Package Version; do
  [[ $(dpkg-deb -f "$cross_deb" $f) == "$(dpkg-deb -f "$host_deb" $f)" ]] || fail "$f differs between the packages"
done
depends=$(dpkg-deb -f "$cross_deb" Depends)
[[ $depends == *libc6* ]] || fail "Depends has no libc6 (dpkg-shlibdeps did not run?): $depends"
[[ $depends == *libnvme* ]] || fail "Depends has no libnvme package: $depends"
for lib in libstdc++6 libsystemd0 libyaml-cpp libcurl; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
# Each package's Depends names packages, not architectures: the same on both.
[[ $depends == "$(dpkg-deb -f "$host_deb" Depends)" ]] ||
  echo "note: Depends differ: cross '$depends' host '$(dpkg-deb -f "$host_deb" Depends)'"

files() { dpkg-deb -c "$1" | awk '{ print $1, $6 }' | sed 's/\/$//' | sort; }
diff -u <(files "$host_deb") <(files "$cross_deb") || fail "the file lists differ (above: - $host_arch, + $arch)"
echo "PASS: $(files "$cross_deb" | wc -l) entries, the same paths and modes in both packages; Architecture: $arch"
