// The metric catalog as the mixin sees it: metrics.json is generated from
// core/metric_catalog.h and workloads/bench_metrics.h by
// tests/grafana/metrics_json.cpp. A name that is not in it stops the
// generation with an error, so a renamed metric breaks the build, not a
// dashboard.
local data = import 'metrics.json';

local startsWith(s, p) = std.length(s) >= std.length(p) && std.substr(s, 0, std.length(p)) == p;
local prefixOf(name) = [p for p in std.objectFields(data.prefixes) if startsWith(name, p)];

local entry(name) =
  if std.objectHas(data.metrics, name) then data.metrics[name]
  else if std.length(prefixOf(name)) > 0 then data.prefixes[prefixOf(name)[0]]
  else error 'unknown metric %s: not in grafana/lib/metrics.json (core/metric_catalog.h)' % name;

{
  // The name itself, checked against the catalog.
  m(name):: assert std.type(entry(name)) == 'object'; name,
  help(name):: entry(name).help,
  type(name):: entry(name).type,
  // A panel description: the HELP text of each metric it shows.
  describe(names)::
    if std.length(names) == 1 then entry(names[0]).help
    else std.join('\n\n', ['`%s`: %s' % [n, entry(n).help] for n in names]),
}
