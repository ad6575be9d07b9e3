// Panel constructors. Every panel queries the `datasource` variable, carries
// a unit and a description built from the HELP text of the metrics it shows
// (catalog.libsonnet), and a hidden width `w` and height `h` that
// layout.libsonnet turns into gridPos.
local catalog = import 'catalog.libsonnet';

local ds = { type: 'prometheus', uid: '${datasource}' };

local refIds(ts) = [ts[i] { refId: std.char(std.codepoint('A') + i) } for i in std.range(0, std.length(ts) - 1)];

local thresholdSteps(steps) = {
  mode: 'absolute',
  steps: [{ color: 'green', value: null }] + [{ color: s[1], value: s[0] } for s in steps],
};

local base(type, title, metrics, targets, unit, note, w, h) = {
  assert std.length(metrics) > 0 : 'panel "%s" names no metric' % title,
  assert std.length(targets) > 0 : 'panel "%s" has no query' % title,
  type: type,
  title: title,
  datasource: ds,
  description: (if note == '' then '' else note + '\n\n') + catalog.describe(metrics),
  targets: refIds(targets),
  fieldConfig: { defaults: { unit: unit }, overrides: [] },
  options: {},
  w:: w,
  h:: h,
};

{
  datasource:: ds,

  // A range query; legend as Grafana's legendFormat.
  target(expr, legend=''):: {
    datasource: ds,
    expr: expr,
    legendFormat: legend,
    range: true,
    instant: false,
    editorMode: 'code',
  },
  // An instant query as a table (info metrics).
  tableTarget(expr):: self.target(expr) { range: false, instant: true, format: 'table' },
  // Histogram buckets for the heatmap panel.
  heatmapTarget(expr):: self.target(expr, '{{le}}') { format: 'heatmap' },

  timeseries(title, metrics, targets, unit, w=8, h=8, note='', stack=false, min=null, max=null, calcs=['lastNotNull', 'max'])::
    base('timeseries', title, metrics, targets, unit, note, w, h) {
      fieldConfig+: {
        defaults+: {
          [if min != null then 'min']: min,
          [if max != null then 'max']: max,
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: if stack then 70 else 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
          },
        },
      },
      options: {
        legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: calcs },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

  // Series whose display name matches `regex` drawn as dashed lines outside
  // the stack (a limit or a total beside stacked bands): panel + p.lines(re).
  lines(regex):: {
    fieldConfig+: {
      overrides+: [{
        matcher: { id: 'byRegexp', options: regex },
        properties: [
          { id: 'custom.stacking', value: { mode: 'none', group: 'A' } },
          { id: 'custom.fillOpacity', value: 0 },
          { id: 'custom.lineWidth', value: 2 },
          { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
        ],
      }],
    },
  },

  // steps: [[value, color], ...] above green.
  stat(title, metrics, targets, unit, w=4, h=4, note='', steps=[], graph=true, decimals=null)::
    base('stat', title, metrics, targets, unit, note, w, h) {
      fieldConfig+: {
        defaults+: {
          thresholds: thresholdSteps(steps),
          color: { mode: 'thresholds' },
          [if decimals != null then 'decimals']: decimals,
        },
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: if graph then 'area' else 'none',
        textMode: 'auto',
        justifyMode: 'auto',
        orientation: 'auto',
      },
    },

  bargauge(title, metrics, targets, unit, w=8, h=6, note='', min=0, max=1, steps=[])::
    base('bargauge', title, metrics, targets, unit, note, w, h) {
      fieldConfig+: {
        defaults+: { min: min, max: max, thresholds: thresholdSteps(steps), color: { mode: 'thresholds' } },
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        displayMode: 'gradient',
        orientation: 'horizontal',
        showUnfilled: true,
      },
    },

  heatmap(title, metrics, targets, unit, w=12, h=8, note='')::
    base('heatmap', title, metrics, targets, unit, note, w, h) {
      options: {
        calculate: false,
        yAxis: { axisPlacement: 'left', unit: unit },
        rowsFrame: { layout: 'auto' },
        color: { mode: 'scheme', scheme: 'Oranges', scale: 'exponential', exponent: 0.5, steps: 64, fill: 'dark-orange' },
        cellGap: 1,
        cellValues: { unit: 'short' },
        tooltip: { show: true, yHistogram: true },
        legend: { show: true },
      },
    },

  // An instant table of info series: the labels are the content.
  table(title, metrics, targets, w=12, h=6, note='', hide=['Time', 'Value'])::
    base('table', title, metrics, targets, 'none', note, w, h) {
      options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { [k]: true for k in hide } } },
      ],
    },

  stateTimeline(title, metrics, targets, unit, w=12, h=8, note='')::
    base('state-timeline', title, metrics, targets, unit, note, w, h) {
      fieldConfig+: {
        defaults+: {
          thresholds: thresholdSteps([[1, 'red']]),
          color: { mode: 'thresholds' },
          custom: { fillOpacity: 80, lineWidth: 0 },
        },
      },
      options: {
        mergeValues: true,
        showValue: 'never',
        rowHeight: 0.9,
        alignValue: 'left',
        legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
        tooltip: { mode: 'single', sort: 'none' },
      },
    },

  // How to read the dashboard (markdown); no query, no unit. Text and row
  // panels name the datasource variable too, so no panel falls back to a default.
  text(title, content, w=24, h=3):: {
    type: 'text',
    datasource: ds,
    title: title,
    description: 'How to read this part of the dashboard.',
    options: { mode: 'markdown', content: content, code: { language: 'plaintext', showLineNumbers: false, showMiniMap: false } },
    w:: w,
    h:: h,
  },

  row(title):: {
    type: 'row',
    datasource: ds,
    title: title,
    collapsed: false,
    panels: [],
    w:: 24,
    h:: 1,
  },
}
