#!/usr/bin/env bash
# Regenerates the dashboards (dashboards/*.json) and the Prometheus rule files
# (rules/*.yml) from the Jsonnet mixin (mixin.libsonnet, mixin/, lib/).
# Usage: grafana/generate.sh [OUTDIR]    OUTDIR defaults to grafana/ (in place).
# The output is deterministic: jsonnet sorts keys, jq re-indents by 2 and
# writes numbers shortest-first (0.9, not jsonnet's 0.90000000000000002), so the
# committed files diff clean against a fresh generation (tests/grafana).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here}
for tool in jsonnet jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "generate.sh: $tool not found (Debian package $tool)" >&2
    exit 1
  fi
done
mkdir -p "$out/dashboards" "$out/rules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jsonnet -J "$here/lib" -m "$tmp" "$here/dashboards.jsonnet" >/dev/null
for f in "$tmp"/*.json; do
  jq -S --indent 2 . "$f" >"$out/dashboards/${f##*/}"
done
jsonnet -J "$here/lib" -S -m "$out/rules" "$here/rules.jsonnet" >/dev/null
