#!/usr/bin/env bash
# grafana/lib/metrics.json is what the catalog prints (metrics_json, built
# from core/metric_catalog.h and workloads/bench_metrics.h): a metric added,
# renamed or re-described in C++ must be regenerated, and the mixin then
# checks every name it uses against it.
# Usage: check_metrics_json.sh METRICS_JSON_TOOL COMMITTED_JSON
# Regenerate: METRICS_JSON_TOOL > grafana/lib/metrics.json, then grafana/generate.sh.
set -euo pipefail
tool=$1 committed=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$tool" >"$tmp"
if ! diff -u "$committed" "$tmp"; then
  echo "out of date: $committed (regenerate it with $tool > $committed, then run grafana/generate.sh)"
  exit 1
fi
echo "$committed matches the metric catalog"
