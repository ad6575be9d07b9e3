#!/usr/bin/env bash
# Imports run one way: daemon -> {exporters, workloads} -> probes -> core
# (workloads may use exporters for its live /metrics). Fails, naming the file,
# the line and the rule, when a source file under ROOT includes a header of a
# layer it may not use, or a quoted header outside the layers.
#
#   include_rules.sh ROOT             check the tree at ROOT
#   include_rules.sh --self-test      show that a wrong include is caught
set -uo pipefail

allowed() {  # LAYER -> the layers it may include
  case $1 in
    core) echo "core" ;;
    probes) echo "core probes" ;;
    exporters) echo "core probes exporters" ;;
    workloads) echo "core probes exporters workloads" ;;
    daemon) echo "core probes exporters workloads daemon" ;;
  esac
}

check() {  # ROOT
  local root=$1 bad=0 layer file line n target
  for layer in core probes exporters workloads daemon; do
    [[ -d $root/$layer ]] || continue
    local ok
    ok=" $(allowed "$layer") "
    while IFS= read -r -d '' file; do
      n=0
      while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]] || continue
        target=${BASH_REMATCH[1]}
        local top=${target%%/*}
        if [[ $target != */* ]]; then
          echo "${file#"$root"/}:$n: includes \"$target\": quoted includes name their layer (core/..., probes/...)"
          bad=1
        elif [[ $ok != *" $top "* ]]; then
          echo "${file#"$root"/}:$n: includes \"$target\": $layer/ may include $(allowed "$layer" | sed 's/\([a-z]*\)/\1\//g; s/ /, /g') only (daemon -> exporters/workloads -> probes -> core)"
          bad=1
        fi
      done < "$file"
    done < <(find "$root/$layer" -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.h.in' \) -print0 | sort -z)
  done
  return $bad
}

if [[ ${1:-} == --self-test ]]; then
  t=$(mktemp -d)
  trap 'rm -rf "$t"' EXIT
  mkdir -p "$t/core" "$t/probes" "$t/workloads" "$t/daemon"
  printf '#include "core/text.h"\n#include "probes/registry.h"\n' > "$t/probes/good.cpp"
  printf '#include "workloads/runner.h"\n#include "exporters/render.h"\n' > "$t/daemon/good.cpp"
  printf '// a comment\n#include <string>\n#include "daemon/config.h"\n' > "$t/probes/bad.cpp"
  printf '#include "probes/probe.h"\n' > "$t/core/bad.h"
  printf '#include "daemon/cli.h"\n' > "$t/workloads/bad.cpp"
  out=$(check "$t"); rc=$?
  expected='core/bad.h:1: includes "probes/probe.h": core/ may include core/ only (daemon -> exporters/workloads -> probes -> core)
probes/bad.cpp:3: includes "daemon/config.h": probes/ may include core/, probes/ only (daemon -> exporters/workloads -> probes -> core)
workloads/bad.cpp:1: includes "daemon/cli.h": workloads/ may include core/, probes/, exporters/, workloads/ only (daemon -> exporters/workloads -> probes -> core)'
  if [[ $rc -ne 1 || $out != "$expected" ]]; then
    echo "self-test failed (rc $rc); got:"; echo "$out"; echo "expected:"; echo "$expected"
    exit 1
  fi
  echo "self-test: the three wrong includes were reported, the right ones were not"
  exit 0
fi

root=${1:?usage: include_rules.sh ROOT | --self-test}
if check "$root"; then
  echo "include rules hold: $(find "$root"/{core,probes,exporters,workloads,daemon} -type f \( -name '*.h' -o -name '*.cpp' \) | wc -l) files"
else
  exit 1
fi
