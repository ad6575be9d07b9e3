#!/usr/bin/env bash
# `tierscope report` through the real binary on the fixed run directory
# (tests/workloads/report_run) and on broken copies of it: a torn last line,
# no summary.json, a different scenario version -> exit 0, one "warning:"
# line per problem on stderr, the report written and saying what is missing;
# an empty or missing directory -> 65; an unwritable --out -> 73; a bad
# --format -> 64. Several runs -> one report with a section each.
# Usage: report.sh TIERSCOPE_BINARY   (TIERSCOPE_SOURCE_DIR set)
source "$(dirname "$0")/lib.sh"
bin=$1
run=$TIERSCOPE_SOURCE_DIR/tests/workloads/report_run

# report EXPECTED_RC ARGS...: runs `tierscope report ARGS` (10 s limit).
report() {
  local want=$1; shift
  local rc=0
  timeout 10 "$bin" report "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [[ $rc -eq $want ]] || { cat "$TMP/err" >&2; fail "tierscope report $*: exit $rc, expected $want"; }
}
warnings() { grep -c '^warning: ' "$TMP/err" || true; }
has() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; head -c 4000 "$1" >&2; fail "$1 lacks '$2'"; }; }

# The fixed run: its one problem is the torn last line.
cp -r "$run" "$TMP/torn"
report 0 "$TMP/torn"
[[ $(warnings) -eq 1 ]] || { cat "$TMP/err" >&2; fail "torn: expected one warning"; }
has "$TMP/err" "warning: $TMP/torn: requests.jsonl: last line torn (skipped)"
for f in report.html report.md charts/memory-wall.svg charts/outcome-grid.svg charts/ttft-cdf.svg charts/itl-cdf.svg \
         charts/memory-composition.svg charts/ssd-iops.svg; do
  [[ -s $TMP/torn/$f ]] || fail "torn: $f not written"
done
has "$TMP/torn/report.md" "| requests.jsonl: last line torn (skipped) |"
has "$TMP/torn/report.html" "<td>requests.jsonl: last line torn (skipped)</td>"
has "$TMP/out" "report: $TMP/torn/report.html $TMP/torn/report.md (6 charts in $TMP/torn/charts)"

# No summary.json: rebuilt from requests.jsonl, said in the report.
cp -r "$run" "$TMP/nosummary"
rm "$TMP/nosummary/summary.json"
report 0 "$TMP/nosummary" --out "$TMP/nosummary-report" --format md
[[ $(warnings) -eq 2 ]] || { cat "$TMP/err" >&2; fail "no summary: expected two warnings"; }
has "$TMP/err" "warning: $TMP/nosummary: summary.json missing: the statistics tables are rebuilt from requests.jsonl"
has "$TMP/nosummary-report/report.md" "summary.json is missing: these tables are rebuilt from requests.jsonl"
has "$TMP/nosummary-report/report.md" "| 4096 tokens | 8 / 8 | 539.1 |"
[[ ! -e $TMP/nosummary-report/report.html ]] || fail "--format md wrote report.html"

# A different scenario version: a warning, the rest shown.
cp -r "$run" "$TMP/version"
sed -i 's/"scenario": "context_sweep",/"scenario": "context_sweep", "scenario_version": 3,/' "$TMP/version/summary.json"
printf 'scenario_version: 3\n' >>"$TMP/version/scenario.yaml"
report 0 "$TMP/version" --format html
has "$TMP/err" "summary.json: scenario_version \"3\" is not the 1 this tierscope reads"
has "$TMP/err" "scenario.yaml: scenario_version \"3\" is not the 1 this tierscope reads"
has "$TMP/version/report.html" "data-chart=\"memory-wall\""
[[ ! -e $TMP/version/report.md ]] || fail "--format html wrote report.md"

# Nothing usable: 65, the report not written.
mkdir "$TMP/empty"
report 65 "$TMP/empty"
has "$TMP/err" "tierscope report: nothing to report"
[[ ! -e $TMP/empty/report.html ]] || fail "an empty directory got a report"
report 65 "$TMP/does-not-exist"
has "$TMP/err" "warning: $TMP/does-not-exist: $TMP/does-not-exist: no such directory"

# Several runs (one of them empty): one report, a section each, the cross-run grid.
report 0 "$TMP/torn" "$TMP/empty" "$TMP/version" --out "$TMP/several"
has "$TMP/several/report.md" "## Run torn"
has "$TMP/several/report.md" "## Run version"
has "$TMP/several/report.md" "## Across runs"
has "$TMP/several/report.md" "$TMP/empty: nothing usable, left out of the report."
[[ -s $TMP/several/charts/runs-outcome-grid.svg && -s $TMP/several/charts/run3-memory-wall.svg ]] || fail "several: charts"

# --out that cannot be written: 73. A bad --format: 64.
: >"$TMP/a-file"
report 73 "$TMP/torn" --out "$TMP/a-file/sub"
has "$TMP/err" "tierscope report: cannot write the report to $TMP/a-file/sub"
report 64 "$TMP/torn" --format pdf
report 64
echo "report: ok"
