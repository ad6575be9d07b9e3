#!/usr/bin/env bash
# The Prometheus rule files: `promtool check rules` clean, `promtool test
# rules` passes, and alerts_test.yml shows every alert of
# tierscope-alerts.yml both firing (an exp_alerts with labels) and not firing
# (an empty exp_alerts).
# Usage: rules_test.sh SOURCE_DIR
set -euo pipefail
src=$1
rules=$src/grafana/rules
tests=$src/tests/grafana/alerts_test.yml
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (Debian package prometheus)"; exit 77; }
promtool check rules "$rules"/*.yml
promtool test rules "$tests"
# Per alert: the eval blocks that name it, and what each expects.
mapfile -t alerts < <(sed -nE 's/^ *(- )?alert: "(.*)"$/\2/p' "$rules/tierscope-alerts.yml")
[[ ${#alerts[@]} -gt 0 ]] || { echo "no alert found in $rules/tierscope-alerts.yml"; exit 1; }
status=0
for a in "${alerts[@]}"; do
  quiet=$(grep -A1 -E "^ *alertname: $a\$" "$tests" | grep -cE '^ *exp_alerts: \[\]$' || true)
  firing=$(grep -A1 -E "^ *alertname: $a\$" "$tests" | grep -cE '^ *exp_alerts:$' || true)
  if [[ $quiet -lt 1 || $firing -lt 1 ]]; then
    echo "$a: alerts_test.yml shows it firing $firing and not firing $quiet times (need both)"
    status=1
  fi
done
[[ $status == 0 ]] && echo "every alert (${#alerts[@]}) tested firing and not firing"
exit "$status"
