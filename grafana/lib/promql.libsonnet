// PromQL pieces for panel targets. Every selector matches the template
// variables by regex (job=~"$job", instance=~"$instance", ...), so "All"
// (.+) and multi-value selections work; every rate/increase takes
// $__rate_interval; every metric name is checked against the catalog.
local catalog = import 'catalog.libsonnet';

{
  sel(extra=''):: 'job=~"$job", instance=~"$instance"' + (if extra == '' then '' else ', ' + extra),
  // metric{job=~"$job", instance=~"$instance", extra}
  s(metric, extra=''):: '%s{%s}' % [catalog.m(metric), self.sel(extra)],
  rate(metric, extra=''):: 'rate(%s[$__rate_interval])' % self.s(metric, extra),
  increase(metric, extra=''):: 'increase(%s[$__rate_interval])' % self.s(metric, extra),
  // A histogram's buckets, checked against the catalog as a histogram.
  bucket(metric, extra=''):: (
    assert catalog.type(metric) == 'histogram' : metric + ' is not a histogram';
    '%s_bucket{%s}' % [metric, self.sel(extra)]
  ),
  histSum(metric, extra=''):: '%s_sum{%s}' % [catalog.m(metric), self.sel(extra)],
  histCount(metric, extra=''):: '%s_count{%s}' % [catalog.m(metric), self.sel(extra)],
}
