// The dashboard skeleton: schema version, fixed uid, tags, the datasource,
// job and instance variables, links to the other tierscope dashboards, and
// panels placed by layout.libsonnet.
local layout = import 'layout.libsonnet';
local panels = import 'panels.libsonnet';

{
  schemaVersion:: 39,

  datasourceVariable:: {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'prometheus',
    regex: '',
    current: {},
    hide: 0,
    refresh: 1,
    options: [],
    includeAll: false,
    multi: false,
  },

  // A query variable over label values; multi-value with All (= .+).
  queryVariable(name, label, query):: {
    type: 'query',
    name: name,
    label: label,
    datasource: panels.datasource,
    query: { query: query, refId: 'StandardVariableQuery' },
    definition: query,
    current: {},
    options: [],
    hide: 0,
    refresh: 2,
    regex: '',
    sort: 1,
    multi: true,
    includeAll: true,
    allValue: '.+',
  },

  // selector: the _config selector of the job; metric: the metric whose
  // label values list the jobs and instances.
  jobInstanceVariables(selector, metric):: [
    self.queryVariable('job', 'Job', 'label_values(%s{%s}, job)' % [metric, selector]),
    self.queryVariable('instance', 'Instance', 'label_values(%s{%s, job=~"$job"}, instance)' % [metric, selector]),
  ],

  new(title, uid, description, variables, rows, refresh='30s', from='now-1h'):: {
    title: title,
    uid: uid,
    description: description,
    tags: ['tierscope'],
    editable: false,
    graphTooltip: 1,
    timezone: '',
    refresh: refresh,
    time: { from: from, to: 'now' },
    timepicker: {},
    schemaVersion: $.schemaVersion,
    version: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      }],
    },
    links: [{
      title: 'tierscope',
      type: 'dashboards',
      tags: ['tierscope'],
      asDropdown: true,
      includeVars: true,
      keepTime: true,
      icon: 'external link',
      tooltip: '',
      url: '',
      targetBlank: false,
    }],
    templating: { list: [$.datasourceVariable] + variables },
    panels: layout.grid(rows),
  },
}
