#!/usr/bin/env bash
# grafana/lib/metrics.json is what the catalog prints (metrics_json, built
# from core/metric_catalog.h, workloads/bench_metrics.h and workloads/soak_metrics.h): a metric added,
# renamed or re-described in C++ must be regenerated, and the mixin then
# checks every name it uses against it.
# Also: every MetricDef defined in those headers is in kCatalog/kBenchCatalog/kSoakCatalog
# (a metric left out of the list would be missing from metrics.json).
# Usage: check_metrics_json.sh METRICS_JSON_TOOL COMMITTED_JSON [SOURCE_DIR]
# Regenerate: METRICS_JSON_TOOL > grafana/lib/metrics.json, then grafana/generate.sh.
set -euo pipefail
tool=$1 committed=$2 src=${3:-}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$tool" >"$tmp"
if [[ -n "$src" ]]; then
  command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
  mapfile -t defined < <(sed -nE 's/.*inline constexpr MetricDef [a-z_0-9]+\{"([a-z_0-9]+)".*/\1/p' \
                           "$src/core/metric_catalog.h" "$src/workloads/bench_metrics.h" "$src/workloads/soak_metrics.h" | sort)
  [[ ${#defined[@]} -gt 0 ]] || { echo "no MetricDef found under $src"; exit 1; }
  missing=$(comm -23 <(printf '%s\n' "${defined[@]}") <(jq -r '.metrics | keys[]' "$tmp" | sort))
  if [[ -n "$missing" ]]; then
    echo "defined but not in kCatalog/kBenchCatalog (so not in metrics.json): $missing"
    exit 1
  fi
fi
if ! diff -u "$committed" "$tmp"; then
  echo "out of date: $committed (regenerate it with $tool > $committed, then run grafana/generate.sh)"
  exit 1
fi
echo "$committed matches the metric catalog"
