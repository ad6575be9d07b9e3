#!/usr/bin/env bash
# The shipped units' sandbox, offline (no systemd needed as PID 1):
# `systemd-analyze security --offline=yes` of systemd/tierscope.service and of
# the template systemd/tierscope-soak@.service as an instance
# (tierscope-soak@test.service, the name the nspawn test starts), each at most
# 3.0; the ✗ lines are printed. The same scores inside a booted container:
# nspawn_systemd.sh. Skips (77) without systemd-analyze or without --offline
# (systemd < 250). About 1 s.
# Usage: units_security.sh SOURCE_DIR
set -euo pipefail
src=$1
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed (Debian: systemd)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/systemd/tierscope.service" "$tmp/tierscope.service"
cp "$src/systemd/tierscope-soak@.service" "$tmp/tierscope-soak@test.service"
for unit in tierscope.service tierscope-soak@test.service; do
  rc=0
  (cd "$tmp" && systemd-analyze security --offline=yes --no-pager "./$unit") >"$tmp/out" 2>&1 || rc=$?
  if grep -q "unrecognized option\|Unknown option" "$tmp/out"; then
    echo "SKIP: systemd-analyze has no --offline (systemd $(systemd-analyze --version | head -1 | cut -d' ' -f2))"
    exit 77
  fi
  score=$(sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p" "$tmp/out")
  [[ -n $score ]] || { cat "$tmp/out"; echo "FAIL: no exposure score for $unit (systemd-analyze exit $rc)"; exit 1; }
  echo "$unit: exposure $score"
  grep '✗' "$tmp/out" | awk '{ print "    " $1, $2, "(" $NF ")" }'
  awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || { echo "FAIL: $unit exposure $score > 3.0"; exit 1; }
done
echo "PASS: both units at most 3.0"
