#!/usr/bin/env bash
# The committed dashboards and rule files are what the Jsonnet mixin
# generates: regenerates into a temporary directory and diffs; fails naming
# each file that differs (run grafana/generate.sh and commit the result).
# Usage: check_generated.sh GRAFANA_DIR
set -euo pipefail
dir=$1
for tool in jsonnet jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$dir/generate.sh" "$tmp"
status=0
for sub in dashboards rules; do
  if ! diff -r -u "$dir/$sub" "$tmp/$sub" >"$tmp/$sub.diff"; then
    status=1
    grep -E '^(diff|Only in)' "$tmp/$sub.diff" | sed "s|$tmp|<generated>|g; s|^|out of date: |"
    head -40 "$tmp/$sub.diff" | sed "s|$tmp|<generated>|g"
  fi
done
[[ $status == 0 ]] && echo "grafana/dashboards and grafana/rules match the mixin"
[[ $status == 0 ]] || echo "run grafana/generate.sh and commit the result"
exit "$status"
