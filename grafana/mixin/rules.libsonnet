// Recording rules: per-device IOPS, throughput and latency; swap traffic and
// the IO on the NVMe namespaces that hold swap (the offload tier); the bench's
// tokens/s, outcomes and latency quantiles. Fixed 5m windows (a rule has no
// $__rate_interval); names are level:metric:operation.
local catalog = import 'catalog.libsonnet';

function(config)
  local S = config.tierscopeSelector;
  local B = config.benchSelector;
  local s(m, extra='') = '%s{%s}' % [catalog.m(m), S + (if extra == '' then '' else ', ' + extra)];
  local b(m, extra='') = '%s{%s}' % [catalog.m(m), B + (if extra == '' then '' else ', ' + extra)];
  local r(name, expr) = { record: name, expr: expr };
  {
    groups: [
      {
        name: 'tierscope-disks',
        rules: [
          r('instance_device:tierscope_disk_reads_completed:rate5m', 'rate(%s[5m])' % s('tierscope_disk_reads_completed_total')),
          r('instance_device:tierscope_disk_writes_completed:rate5m', 'rate(%s[5m])' % s('tierscope_disk_writes_completed_total')),
          r('instance_device:tierscope_disk_read_bytes:rate5m', 'rate(%s[5m])' % s('tierscope_disk_read_bytes_total')),
          r('instance_device:tierscope_disk_written_bytes:rate5m', 'rate(%s[5m])' % s('tierscope_disk_written_bytes_total')),
          r('instance_device:tierscope_disk_read_latency_seconds:mean5m',
            'rate(%s[5m]) / rate(%s[5m])' % [s('tierscope_disk_read_time_seconds_total'), s('tierscope_disk_reads_completed_total')]),
          r('instance_device:tierscope_disk_write_latency_seconds:mean5m',
            'rate(%s[5m]) / rate(%s[5m])' % [s('tierscope_disk_write_time_seconds_total'), s('tierscope_disk_writes_completed_total')]),
        ],
      },
      {
        name: 'tierscope-swap',
        rules: [
          r('instance:tierscope_swap_in_pages:rate5m', 'rate(%s[5m])' % s('tierscope_swap_in_pages_total')),
          r('instance:tierscope_swap_out_pages:rate5m', 'rate(%s[5m])' % s('tierscope_swap_out_pages_total')),
          // All IO of an NVMe namespace that holds an active swap area (role="swap"
          // of tierscope_offload_device_info): where swap traffic lands.
          r('instance_device:tierscope_swap_device_read_bytes:rate5m',
            'rate(%s[5m]) and on (job, instance, device) %s' % [s('tierscope_disk_read_bytes_total'), s('tierscope_offload_device_info', 'role="swap"')]),
          r('instance_device:tierscope_swap_device_written_bytes:rate5m',
            'rate(%s[5m]) and on (job, instance, device) %s' % [s('tierscope_disk_written_bytes_total'), s('tierscope_offload_device_info', 'role="swap"')]),
        ],
      },
      {
        name: 'tierscope-bench',
        rules: [
          r('instance:tierscope_bench_output_tokens_per_second:avg1m', 'avg_over_time(%s[1m])' % b('tierscope_bench_output_tokens_per_second')),
          r('instance_outcome:tierscope_bench_requests:rate5m', 'sum by (job, instance, outcome) (rate(%s[5m]))' % b('tierscope_bench_requests_total')),
          r('instance:tierscope_bench_ttft_seconds:p99_5m',
            'histogram_quantile(0.99, sum by (job, instance, le) (rate(%s_bucket{%s}[5m])))' % [catalog.m('tierscope_bench_ttft_seconds'), B]),
          r('instance:tierscope_bench_inter_token_latency_seconds:p99_5m',
            'histogram_quantile(0.99, sum by (job, instance, le) (rate(%s_bucket{%s}[5m])))' % [catalog.m('tierscope_bench_inter_token_latency_seconds'), B]),
        ],
      },
    ],
  }
