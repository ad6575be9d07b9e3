#!/usr/bin/env bash
# The metric contract of the dashboards and rules, checked against a running
# Prometheus: every panel target and query variable of every Grafana dashboard
# (template variables substituted as in contract.jq) must return at least one
# series at TIME; every rule group loaded from RULES_DIR must have been
# evaluated with every rule healthy (no lastError); every recording rule's
# expression must return a series; every vector selector of every alerting
# rule and dashboard annotation must return a series (the alert or
# annotation itself normally returns nothing).
#
# A failure names the dashboard (or rule file and group), panel (or rule),
# refId, the expression after substitution, and for each vector selector that
# returns nothing why: the metric is missing (with the names that share its
# prefix), a label is missing, a label matcher matches nothing (with the
# label's values), or the matchers only match apart. Every failure is reported,
# then the exit code is 1; 0 when all pass; 2 on a usage or connection error.
# Notes, which do not fail: a panel legend's {{label}} that no returned series
# has, and alerts firing or pending on the scraped hosts.
#
# Usage: check_contract.sh PROMETHEUS_URL TIME DASHBOARD_DIR RULES_DIR [GAPS_FILE]
#   TIME: evaluation time (Unix seconds) for every query; RULES_DIR: the
#   directory whose rule files the Prometheus loaded (only groups from files
#   in it are checked). Either directory may be "-" to skip that half.
#   GAPS_FILE: "NAME REASON" lines, metrics the scraped hosts cannot produce
#   (fixture_gaps.txt): a query that fails only for want of them is listed as
#   UNVERIFIED with the reason, not failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -eq 4 || $# -eq 5 ]] || { echo "usage: $0 PROMETHEUS_URL TIME DASHBOARD_DIR RULES_DIR [GAPS_FILE]" >&2; exit 2; }
prom=${1%/} at=$2 dash_dir=$3 rules_dir=$4 gaps=${5:-/dev/null}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0 checked=0 unverified=0

jqc() { jq -L "$here" "include \"contract\"; $1" "${@:2}"; }

# api PATH [CURL ARGS...]: the body of a Prometheus API call (errors
# included: a bad query is HTTP 400 with a JSON body).
api() {
  local path=$1; shift
  curl -sS --noproxy '*' --max-time 10 "$prom$path" "$@" ||
    { echo "check_contract: Prometheus at $prom did not answer $path" >&2; exit 2; }
}

# query EXPR: the API's answer for EXPR at TIME, as JSON.
query() { api /api/v1/query --data-urlencode "query=$1" --data-urlencode "time=$at"; }

# evaluate EXPR: sets BODY to the API's answer and N to 0 when EXPR returns no
# series, 1 when it returns some (Prometheus' compact JSON read without jq:
# this runs once per query), or "error: ..." when it fails.
evaluate() {
  BODY=$(query "$1")
  if [[ $BODY == '{"status":"success"'* ]]; then
    if [[ $BODY == *'"result":[]'* ]]; then N=0; else N=1; fi
  else
    N=$(jq -r '"error: \(.errorType // ""): \(.error // "no answer")"' <<<"$BODY" 2>/dev/null) || N="error: ${BODY:0:300}"
  fi
}
nseries() { evaluate "$1"; echo "$N"; }

# count_of SELECTOR: how many series SELECTOR matches (0 when none), or "error: ...".
count_of() {
  query "count($1)" | jq -r 'if .status == "success" then (.data.result[0].value[1] // "0") else "error: \(.error // "no answer")" end'
}

names_file=$work/names.json
# Every metric name Prometheus holds and those of GAPS_FILE, once, for the "names like it" hint.
metric_names() {
  [[ -s $names_file ]] ||
    api /api/v1/label/__name__/values | jq --rawfile g "$gaps" '.data + [$g | splits("\n") | select(test("^[a-z]")) | split(" ")[0]] | unique' >"$names_file"
  cat "$names_file"
}

# similar NAME: up to 5 stored names sharing NAME's longest prefix that ends
# before an underscore (tierscope_memory_capacity_byte -> tierscope_memory_capacity_*).
similar() {
  metric_names | jq -r --arg n "$1" '
    . as $all
    | [range(($n | length); 0; -1) as $i | $n[:$i] | select(endswith("_") or endswith(":"))] as $prefixes
    | first($prefixes[] as $p | [$all[] | select(startswith($p))] | select(length > 0) | .[:5]) // []
    | join(", ")'
}

# gap_reason NAME: why the scraped hosts cannot produce NAME (GAPS_FILE), or nothing.
gap_reason() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ +/, ""); print; exit }' "$gaps"; }

# diagnose EXPR: one line per vector selector of EXPR: what it matches, or why
# nothing. Status 3 when the only selectors without series are of metrics in
# GAPS_FILE (the query cannot be verified here), else 0.
diagnose() {
  local expr=$1 sel name n m mtext label op values combined_ok like reason all values_of
  local all_ok=1 problem=0 gap=0
  while IFS= read -r sel; do
    name=$(jq -rn --arg s "$sel" -L "$here" 'include "contract"; $s | selname')
    if [[ -n $name ]]; then
      n=$(count_of "$name")
      if [[ $n == error* ]]; then echo "    - $sel: $n"; all_ok=0 problem=1; continue; fi
      if [[ $n == 0 ]]; then
        all_ok=0
        reason=$(gap_reason "$name")
        if [[ -n $reason ]]; then
          echo "    - $sel: not produced on the test's hosts: $reason"; gap=1; continue
        fi
        like=$(similar "$name")
        echo "    - $sel: metric missing: no series named $name${like:+ (names like it: $like)}"
        problem=1; continue
      fi
    fi
    n=$(count_of "$sel")
    if [[ $n != 0 && $n != error* ]]; then echo "    - $sel: $n series"; continue; fi
    all_ok=0 problem=1
    if [[ $n == error* ]]; then echo "    - $sel: $n"; continue; fi
    combined_ok=1
    while IFS=$'\x1f' read -r label op mtext; do
      [[ -n $label ]] || continue
      m="{$mtext}"; [[ -n $name && $label != __name__ ]] && m="$name{$mtext}"
      n=$(count_of "$m")
      [[ $n == 0 || $n == error* ]] || continue
      combined_ok=0
      if [[ $n == error* ]]; then echo "    - $sel: label matcher $mtext: $n"; continue; fi
      if [[ $label == __name__ ]]; then
        echo "    - $sel: metric missing: no metric name matches $mtext"; continue
      fi
      values_of=${name:-the selector}
      if [[ $op == "!=" && $mtext == "$label!=\"\"" ]]; then
        echo "    - $sel: label missing: no series of $values_of has label $label"
      elif [[ $op == "=" || $op == "=~" ]]; then
        all=$name; [[ -n $all ]] || all='{__name__!=""}'
        values=$(query "group by ($label) ($all)" |
                 jq -r --arg l "$label" '[.data.result[]?.metric[$l] // empty] | unique | .[:8] | join(", ")')
        if [[ -z $values ]]; then
          echo "    - $sel: label missing: no series of $values_of has label $label (matcher $mtext)"
        else
          echo "    - $sel: label matcher $mtext matches nothing ($label on $values_of: $values)"
        fi
      else
        echo "    - $sel: label matcher $mtext excludes every series of $values_of"
      fi
    done < <(jq -rn --arg s "$sel" -L "$here" 'include "contract"; $s | matchers[] | [.label, .op, .text] | join("\u001f")')
    if [[ $combined_ok == 1 ]]; then
      echo "    - $sel: each label matcher matches series of ${name:-the selector}, but not all of them together"
    fi
  done < <(jq -rn --arg e "$expr" -L "$here" 'include "contract"; $e | selectors[]')
  if [[ $all_ok == 1 ]]; then
    echo "    every vector selector returns series: the expression as a whole returns none (a join's on/ignoring labels, a filter or comparison, or an absent() of present series)"
  fi
  [[ $gap == 1 && $problem == 0 ]] && return 3
  return 0
}

# selectors_empty EXPR: true when a vector selector of EXPR returns no series.
selectors_empty() {
  local sel c
  while IFS= read -r sel; do
    c=$(count_of "$sel")
    [[ $c == 0 || $c == error* ]] && return 0
  done < <(jq -rn --arg e "$1" -L "$here" 'include "contract"; $e | selectors[]')
  return 1
}

# report LABEL WHAT EXPR: a failure (or, when only metrics of GAPS_FILE are
# missing, an unverified query) with EXPR and its diagnosis.
report() {
  local diag rc=0
  diag=$(diagnose "$3") || rc=$?
  if [[ $rc == 3 && $2 != error* ]]; then
    unverified=$((unverified + 1))
    printf 'UNVERIFIED %s: %s\n' "$1" "$2"
  else
    failures=$((failures + 1))
    printf 'FAIL %s: %s\n' "$1" "$2"
  fi
  printf '    expr: %s\n%s\n' "$3" "$diag"
}

# fields JQ_LIST: the values of a JSON object on stdin, joined by \x1f (newlines
# in multi-line expressions become spaces).
fields() { jq -r "[$1]"' | map(tostring | gsub("\\s*\\n\\s*"; " ")) | join("\u001f")'; }

fail_header() { failures=$((failures + 1)); printf 'FAIL %s\n' "$1"; }

# --- dashboards
if [[ $dash_dir != - ]]; then
  shopt -s nullglob
  files=("$dash_dir"/*.json)
  [[ ${#files[@]} -gt 0 ]] || { fail_header "no dashboard files (*.json) in $dash_dir"; }
  for f in "${files[@]}"; do
    base=${f##*/}
    # shellcheck disable=SC2016 # $f is jq's
    if ! jqc '[queries($f) | .dashboard, .kind, .where, .ref, .expr, .query, (.undefined | join(" ")), .legend
              | tostring | gsub("\\s*\\n\\s*"; " ")] | _nwise(8) | join("\u001f")' \
         -r --arg f "$base" "$f" >"$work/q.txt" 2>"$work/q.err"; then
      fail_header "dashboard file $base: not a dashboard JSON: $(head -c 300 "$work/q.err")"; continue
    fi
    [[ -s $work/q.txt ]] || { fail_header "dashboard file $base: no PromQL queries"; continue; }
    while IFS=$'\x1f' read -r -u 3 dash kind where ref expr q undefined legend; do
      checked=$((checked + 1))
      label="dashboard \"$dash\" ($base), $kind \"$where\", refId $ref"
      [[ $kind == panel ]] || label="dashboard \"$dash\" ($base), $kind \"$where\""
      evaluate "$q"; n=$N
      # A legend's {{label}} that no returned series has shows as nothing (a note, not a failure).
      if [[ $n == 1 && $legend == *'{{'* ]]; then
        absent=$(jq -r --arg l "$legend" '[.data.result[]? | objects | .metric | keys[]] as $have
          | [$l | scan("\\{\\{\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\}\\}") | .[0] | select(. as $x | $have | index([$x]) | not)]
          | unique | join(", ")' <<<"$BODY")
        [[ -z $absent ]] || printf 'note: %s: legend "%s": no series returned has %s\n' "$label" "$legend" "$absent"
      fi
      if [[ -n $undefined ]]; then
        fail_header "$label: undefined template variable(s): $undefined (Grafana sends them as written)"
        printf '    expr: %s\n' "$expr"
      fi
      if [[ $kind == annotation ]]; then
        # An annotation marks events: like an alert, it normally returns
        # nothing, so its vector selectors must return series.
        if [[ $n == error* ]]; then report "$label" "$n" "$q"
        elif selectors_empty "$q"; then report "$label" "a vector selector returns no series" "$q"; fi
      elif [[ $n == error* || $n == 0 ]]; then
        report "$label" "$([[ $n == 0 ]] && echo "no series" || echo "$n")" "$q"
      fi
    done 3<"$work/q.txt"
  done
fi

# --- rules
if [[ $rules_dir != - ]]; then
  dir=$(cd "$rules_dir" && pwd)
  api /api/v1/rules >"$work/rules.json"
  jq -e '.status == "success"' "$work/rules.json" >/dev/null || { echo "check_contract: /api/v1/rules: $(head -c 300 "$work/rules.json")" >&2; exit 2; }
  # Every rule file of the directory must have loaded groups.
  shopt -s nullglob
  for f in "$dir"/*.yml "$dir"/*.yaml; do
    jq -e --arg f "$f" '[.data.groups[] | select(.file == $f)] | length > 0' "$work/rules.json" >/dev/null ||
      fail_header "rule file ${f##*/}: no rule group loaded from it"
  done
  jq -c --arg d "$dir/" '.data.groups[] | select(.file | startswith($d)) | . as $g
    | if (.lastEvaluation | startswith("0001-")) then {group: .name, file: (.file | ltrimstr($d)), never: true}
      else .rules[] | {group: $g.name, file: ($g.file | ltrimstr($d)), type, name, query, health,
                       lastError: (.lastError // ""), state: (.state // "")} end' \
    "$work/rules.json" >"$work/r.jsonl"
  while IFS= read -r -u 3 item; do
    if jq -e '.never' <<<"$item" >/dev/null; then
      fail_header "rule group $(jq -r '"\"\(.group)\" (\(.file))"' <<<"$item"): never evaluated"; continue
    fi
    checked=$((checked + 1))
    IFS=$'\x1f' read -r file group type name q health lasterr state < <(
      fields '.file, .group, .type, .name, .query, .health, .lastError, .state' <<<"$item")
    label="rule file $file, group \"$group\", $([[ $type == alerting ]] && echo alert || echo record) $name"
    healthy=1
    if [[ $health != ok || -n $lasterr ]]; then
      fail_header "$label: health $health${lasterr:+: $lasterr}"
      printf '    expr: %s\n' "$q"
      healthy=0
    fi
    n=$(nseries "$q")
    if [[ $type == recording ]]; then
      if [[ $n == 0 || ($n == error* && $healthy == 1) ]]; then
        report "$label" "$([[ $n == 0 ]] && echo "no series" || echo "$n")" "$q"
      fi
    else
      [[ $state == firing || $state == pending ]] && printf 'note: %s is %s on the test fixtures\n' "$label" "$state"
      # The alert itself may return nothing; every vector selector of it must not.
      if [[ $n == error* && $healthy == 1 ]]; then report "$label" "$n" "$q"
      elif selectors_empty "$q"; then report "$label" "a vector selector returns no series" "$q"; fi
    fi
  done 3<"$work/r.jsonl"
fi

summary="checked $checked queries and rules: $failures failure(s)"
(( unverified == 0 )) || summary+=", $unverified unverified (they need metrics the scraped hosts cannot produce)"
echo "$summary"
[[ $failures -eq 0 ]]
