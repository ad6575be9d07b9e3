#!/usr/bin/env bash
# Regenerates the dashboards (dashboards/*.json) and the Prometheus rule files
# (rules/*.yml) from the Jsonnet mixin (mixin.libsonnet, mixin/, lib/).
# Usage: grafana/generate.sh [OUTDIR]    OUTDIR defaults to grafana/ (in place).
# The output is deterministic (jsonnet sorts keys and indents by 3), so the
# committed files diff clean against a fresh generation (tests/grafana).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here}
if ! command -v jsonnet >/dev/null; then
  echo "generate.sh: jsonnet not found (Debian package jsonnet)" >&2
  exit 1
fi
mkdir -p "$out/dashboards" "$out/rules"
jsonnet -J "$here/lib" -m "$out/dashboards" "$here/dashboards.jsonnet" >/dev/null
jsonnet -J "$here/lib" -S -m "$out/rules" "$here/rules.jsonnet" >/dev/null
