// Entry point: jsonnet -J grafana/lib -S -m grafana/rules grafana/rules.jsonnet
local mixin = import 'mixin.libsonnet';
local header = '# Generated from grafana/mixin.libsonnet by grafana/generate.sh; do not edit.\n';
{
  'tierscope-rules.yml': header + std.manifestYamlDoc(mixin.prometheusRules, indent_array_in_object=true, quote_keys=false) + '\n',
  'tierscope-alerts.yml': header + std.manifestYamlDoc(mixin.prometheusAlerts, indent_array_in_object=true, quote_keys=false) + '\n',
}
