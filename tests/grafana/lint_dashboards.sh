#!/usr/bin/env bash
# Lints generated Grafana dashboards and Prometheus rule files against the
# conventions of the mixin (grafana/README.md) and the metric catalog.
# Usage: lint_dashboards.sh METRICS_JSON RULES_DIR FILE...
#   FILE: a dashboard (*.json) or a rule file (*.yml, as grafana/generate.sh
#   writes it: one quoted `expr:` and `record:` per line).
# Dashboards: schemaVersion >= 39; a `datasource` variable (type datasource,
# Prometheus) and `job`/`instance` query variables; every panel, target and
# query variable uses uid ${datasource}; every range selector is
# [$__rate_interval] and every rate/irate/increase has one; every series
# selector has job=~"$job" and instance=~"$instance" and no variable is
# matched with = or !=; every panel but
# text and row has a unit; every panel but row a description; gridPos inside
# the 24-column grid, no two panels overlap; panel ids unique.
# Dashboards and rules: every tierscope_*/process_* name in an expression is
# in METRICS_JSON (histograms with _bucket/_sum/_count; the meminfo prefix),
# every level:metric:op name is recorded in RULES_DIR/*.yml.
# Prints one line per finding, "FILE: what"; exit 1 if any, 0 if none.
# $__rate_interval, $job, ... are Grafana variables, literal in single quotes.
# shellcheck disable=SC2016
set -euo pipefail
metrics=$1 rules_dir=$2
shift 2
failed=0
finding() { echo "$1: $2"; failed=1; }

# Names that are recorded by the rule files.
mapfile -t recorded < <(sed -nE 's/^ *(- )?record: "(.*)"$/\2/p' "$rules_dir"/*.yml | sort -u)
# The catalog: name -> type, and the prefixes of run-time names.
declare -A type_of=()
while read -r name type; do type_of[$name]=$type; done < <(jq -r '.metrics | to_entries[] | "\(.key) \(.value.type)"' "$metrics")
mapfile -t prefixes < <(jq -r '.prefixes | keys[]' "$metrics")
[[ ${#type_of[@]} -gt 0 ]] || { echo "$metrics: no metrics"; exit 1; }

# check_names FILE EXPR...: every metric name in each expression is known.
check_names() {
  local file=$1 expr name base prefix known
  shift
  for expr in "$@"; do
    # Drop quoted label values and strings, then take identifiers.
    while read -r name; do
      [[ -z "$name" ]] && continue
      if [[ "$name" == *:* ]]; then
        printf '%s\n' "${recorded[@]}" | grep -qxF -- "$name" || finding "$file" "recording rule $name is not recorded in $rules_dir"
        continue
      fi
      [[ "$name" == tierscope_* || "$name" == process_* ]] || continue
      [[ -n "${type_of[$name]:-}" ]] && continue
      base=${name%_bucket}; base=${base%_sum}; base=${base%_count}
      [[ "$base" != "$name" && "${type_of[$base]:-}" == histogram ]] && continue
      known=0
      for prefix in "${prefixes[@]}"; do [[ "$name" == "$prefix"* ]] && known=1; done
      [[ $known == 1 ]] && continue
      finding "$file" "unknown metric $name (not in $metrics)"
    done < <(sed -E 's/"([^"\\]|\\.)*"//g' <<<"$expr" | grep -oE '[a-zA-Z_:][a-zA-Z0-9_:]*' | sort -u)
  done
}

lint_dashboard() {
  local f=$1 out expr
  # Structural checks in one jq program; each finding is a line.
  out=$(jq -r '
    def panels: [.panels[]? | ., (.panels[]?)];
    def ds_ok: . == null or .uid == "${datasource}";
    (if (.schemaVersion // 0) < 39 then "schemaVersion \(.schemaVersion) < 39" else empty end),
    (if ([.templating.list[]? | select(.name == "datasource" and .type == "datasource" and .query == "prometheus")] | length) != 1
       then "no datasource variable (type datasource, query prometheus)" else empty end),
    (["job", "instance"][] as $v
       | if ([.templating.list[]? | select(.name == $v and .type == "query")] | length) != 1
         then "no query variable \($v)" else empty end),
    (.templating.list[]? | select(.type == "query" and (.datasource | ds_ok | not))
       | "variable \(.name): datasource is not ${datasource}"),
    (panels[] | select(.type != "row") as $p
       | ( (if ($p.targets // [] | length) > 0 and $p.datasource == null then "panel \($p.id) \($p.title): no datasource" else empty end),
           (if ($p.datasource | ds_ok | not) then "panel \($p.id) \($p.title): datasource is not ${datasource}" else empty end),
           ($p.targets[]? | select(.datasource | ds_ok | not) | "panel \($p.id) \($p.title): target \(.refId) datasource is not ${datasource}"),
           (if $p.type != "text" and (($p.fieldConfig.defaults.unit // "") == "") then "panel \($p.id) \($p.title): no unit" else empty end),
           (if (($p.description // "") | test("\\S") | not) then "panel \($p.id) \($p.title): no description" else empty end))),
    (panels[] | .gridPos as $g
       | if $g == null then "panel \(.id) \(.title): no gridPos"
         elif $g.w > 24 or $g.x < 0 or $g.x + $g.w > 24 or $g.w < 1 or $g.h < 1 then "panel \(.id) \(.title): gridPos \($g|tojson) outside the 24-column grid"
         else empty end),
    (panels | [.[] | select(.gridPos != null)] as $ps
       | range(0; $ps | length) as $i | range($i + 1; $ps | length) as $j
       | $ps[$i].gridPos as $a | $ps[$j].gridPos as $b
       | select($a.x < $b.x + $b.w and $b.x < $a.x + $a.w and $a.y < $b.y + $b.h and $b.y < $a.y + $a.h)
       | "panels \($ps[$i].id) \($ps[$i].title) and \($ps[$j].id) \($ps[$j].title) overlap"),
    (panels | group_by(.id)[] | select(length > 1) | "panel id \(.[0].id) used \(length) times")
  ' "$f") || { finding "$f" "not valid JSON"; return; }
  if [[ -n "$out" ]]; then
    while IFS= read -r line; do finding "$f" "$line"; done <<<"$out"
  fi
  mapfile -t exprs < <(jq -r '[.panels[]? | ., (.panels[]?)] | .[].targets[]?.expr // empty' "$f")
  for expr in "${exprs[@]}"; do
    if grep -qE '(^|[^a-z_])(rate|irate|increase)\(' <<<"$expr" && ! grep -qF '[$__rate_interval]' <<<"$expr"; then
      finding "$f" "rate without \$__rate_interval: $expr"
    fi
    # Every series selector matches the job and instance variables by regex
    # (the metric names of the catalog; a recorded level:metric:op is not checked).
    while read -r sel; do
      [[ -z "$sel" ]] && continue
      if [[ "$sel" != *'{'*'job=~"$job"'* || "$sel" != *'instance=~"$instance"'* ]]; then
        finding "$f" "selector without job=~\"\$job\", instance=~\"\$instance\": $sel"
      fi
    done < <(grep -oE '(^|[^a-zA-Z0-9_:])(tierscope|process)_[a-zA-Z0-9_]*(\{[^}]*\})?' <<<"$expr" | sed -E 's/^[^a-z]//' || true)
    if grep -qE '[a-z_]+(=|!=)"\$' <<<"$expr"; then
      finding "$f" "a template variable matched with = or != (use =~): $expr"
    fi
    while read -r range; do
      [[ -z "$range" || "$range" == '[$__rate_interval]' ]] || finding "$f" "range $range is not [\$__rate_interval]: $expr"
    done < <(sed -E 's/"([^"\\]|\\.)*"//g' <<<"$expr" | grep -oE '\[[^]]*\]' || true)
  done
  mapfile -t queries < <(jq -r '.templating.list[]? | select(.type == "query") | (.query.query? // .query // empty)' "$f")
  check_names "$f" "${exprs[@]}" "${queries[@]}"
}

lint_rules() {
  local f=$1
  mapfile -t exprs < <(sed -nE 's/^ *(- )?expr: "(.*)"$/\2/p' "$f" | sed 's/\\"/"/g; s/\\\\/\\/g')
  [[ ${#exprs[@]} -gt 0 ]] || { finding "$f" "no expr found"; return; }
  check_names "$f" "${exprs[@]}"
}

for f in "$@"; do
  case $f in
    *.json) lint_dashboard "$f" ;;
    *.yml | *.yaml) lint_rules "$f" ;;
    *) finding "$f" "neither a dashboard (.json) nor a rule file (.yml)" ;;
  esac
done
exit "$failed"
