#!/usr/bin/env bash
# The mixin's Jsonnet sources are formatted as jsonnetfmt formats them
# (fix: jsonnetfmt -i FILE).
# Usage: jsonnetfmt_test.sh GRAFANA_DIR
set -euo pipefail
dir=$1
command -v jsonnetfmt >/dev/null || { echo "SKIP: jsonnetfmt not installed (Debian package jsonnet)"; exit 77; }
status=0
for f in "$dir"/*.jsonnet "$dir"/*.libsonnet "$dir"/lib/*.libsonnet "$dir"/mixin/*.libsonnet; do
  jsonnetfmt --test "$f" || { echo "not formatted: $f (jsonnetfmt -i $f)"; status=1; }
done
exit "$status"
