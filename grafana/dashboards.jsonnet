// Entry point: jsonnet -J grafana/lib -m grafana/dashboards grafana/dashboards.jsonnet
(import 'mixin.libsonnet').grafanaDashboards
