// Entry point: jsonnet -J grafana/lib -S -m grafana/dashboards grafana/dashboards.jsonnet
local mixin = import 'mixin.libsonnet';
{ [name]: std.manifestJsonEx(mixin.grafanaDashboards[name], '  ') + '\n' for name in std.objectFields(mixin.grafanaDashboards) }
