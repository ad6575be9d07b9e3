// SSD / NVMe: per-device IO, latency, queue depth and sub-second peaks;
// which device is the offload tier; the NVMe SMART/health log.
local dashboard = import 'dashboard.libsonnet';
local p = import 'panels.libsonnet';
local q = import 'promql.libsonnet';

function(config)
  local dev = 'device=~"$device"';
  local ctl = 'controller=~"$controller"';
  local perOp(title, r, w, unit, note) =
    p.timeseries(title, [r[0], w[0]], [
      p.target(r[1], '{{instance}} {{device}} read'),
      p.target(w[1], '{{instance}} {{device}} write'),
    ], unit, note=note, min=0);
  local lat(time, ops) = '%s / %s' % [q.rate(time, dev), q.rate(ops, dev)];
  dashboard.new(
    'tierscope / SSD and NVMe',
    'tierscope-ssd-nvme',
    'Per-device IOPS, throughput, latency, queue depth and sub-second peaks; the offload tier (Phison, PCI vendor 0x1987); the NVMe health log.',
    dashboard.jobInstanceVariables(config.tierscopeSelector, 'tierscope_build_info') + [
      dashboard.queryVariable('device', 'Block device', 'label_values(tierscope_disk_reads_completed_total{job=~"$job", instance=~"$instance"}, device)'),
      dashboard.queryVariable('controller', 'NVMe controller', 'label_values(tierscope_nvme_info{job=~"$job", instance=~"$instance"}, controller)'),
    ],
    [
      [p.text('How to read this dashboard', |||
        **Offload tier:** the first table names the block devices that form the SSD tier and why (*phison*: a namespace of a controller with PCI vendor 0x1987; *configured*: named in `offload_device`; *swap*: an NVMe namespace holding active swap); the second names each controller.
        **IO:** rates are averages over the rate interval from /proc/diskstats; latency is time spent on the operations over the operations completed (Δ time / Δ IOs); queue depth is the in-flight-weighted time per second; the peaks are the highest per-sample rates within the daemon's peak window, which a scrape average hides.
        **Health log:** read with the NVMe admin command every `nvme.health_interval`; *Health log readable* at 0 means the daemon could not read it (no CAP_SYS_ADMIN or no device node, see its log) and the health panels stay empty.
      |||, h=5)],
      [
        p.table('Offload tier devices',
                ['tierscope_offload_device_info'],
                [p.tableTarget(q.s('tierscope_offload_device_info'))],
                w=10,
                h=7,
                hide=['Time', 'Value', '__name__', 'job']),
        p.table('NVMe controllers',
                ['tierscope_nvme_info'],
                [p.tableTarget(q.s('tierscope_nvme_info', ctl))],
                w=14,
                h=7,
                hide=['Time', 'Value', '__name__', 'job', 'transport']),
      ],
      [p.row('IO per device')],
      [
        perOp('IOPS',
              ['tierscope_disk_reads_completed_total', q.rate('tierscope_disk_reads_completed_total', dev)],
              ['tierscope_disk_writes_completed_total', q.rate('tierscope_disk_writes_completed_total', dev)],
              'iops',
              'Completed reads and writes per second.'),
        perOp('Throughput',
              ['tierscope_disk_read_bytes_total', q.rate('tierscope_disk_read_bytes_total', dev)],
              ['tierscope_disk_written_bytes_total', q.rate('tierscope_disk_written_bytes_total', dev)],
              'Bps',
              'Bytes read and written per second.'),
        p.timeseries('Average latency (Δ time / Δ IOs)',
                     [
                       'tierscope_disk_read_time_seconds_total',
                       'tierscope_disk_reads_completed_total',
                       'tierscope_disk_write_time_seconds_total',
                       'tierscope_disk_writes_completed_total',
                     ],
                     [
                       p.target(lat('tierscope_disk_read_time_seconds_total', 'tierscope_disk_reads_completed_total'), '{{instance}} {{device}} read'),
                       p.target(lat('tierscope_disk_write_time_seconds_total', 'tierscope_disk_writes_completed_total'), '{{instance}} {{device}} write'),
                     ],
                     's',
                     note='Time spent on reads (writes) over reads (writes) completed in the rate interval; empty while the device is idle.',
                     min=0),
      ],
      [
        p.timeseries('Queue depth', ['tierscope_disk_io_time_weighted_seconds_total', 'tierscope_disk_io_in_progress'], [
          p.target(q.rate('tierscope_disk_io_time_weighted_seconds_total', dev), '{{instance}} {{device}} average'),
          p.target(q.s('tierscope_disk_io_in_progress', dev), '{{instance}} {{device}} in flight now'),
        ], 'short', note='Average: in-flight-weighted time per second (requests queued on average); now: requests in flight at the sample.', min=0),
        p.timeseries('Busy time',
                     ['tierscope_disk_io_time_seconds_total'],
                     [p.target(q.rate('tierscope_disk_io_time_seconds_total', dev), '{{instance}} {{device}}')],
                     'percentunit',
                     note='Share of time the device had requests in flight.',
                     min=0,
                     max=1),
        p.timeseries('IOPS peak (sub-second)',
                     ['tierscope_disk_iops_peak'],
                     [p.target(q.s('tierscope_disk_iops_peak', dev), '{{instance}} {{device}} {{op}}')],
                     'iops',
                     min=0),
      ],
      [
        p.timeseries('Throughput peak (sub-second)',
                     ['tierscope_disk_throughput_peak_bytes_per_second'],
                     [p.target(q.s('tierscope_disk_throughput_peak_bytes_per_second', dev), '{{instance}} {{device}} {{op}}')],
                     'Bps',
                     min=0),
        p.timeseries('Offload tier throughput', ['tierscope_disk_read_bytes_total', 'tierscope_disk_written_bytes_total', 'tierscope_offload_device_info'], [
          p.target('%s and on (job, instance, device) %s' % [q.rate('tierscope_disk_read_bytes_total', dev), q.s('tierscope_offload_device_info')], '{{instance}} {{device}} read'),
          p.target('%s and on (job, instance, device) %s' % [q.rate('tierscope_disk_written_bytes_total', dev), q.s('tierscope_offload_device_info')], '{{instance}} {{device}} write'),
        ], 'Bps', note='Bytes per second on the devices of the offload tier only (all of their IO, swap and files).', min=0),
        p.table('Swap areas and their disks',
                ['tierscope_swap_device_info'],
                [p.tableTarget(q.s('tierscope_swap_device_info'))],
                w=8,
                h=8,
                hide=['Time', 'Value', '__name__', 'job']),
      ],
      [p.row('NVMe health log')],
      [
        p.stat('Health log readable',
               ['tierscope_nvme_health_log_up'],
               [p.target(q.s('tierscope_nvme_health_log_up', ctl), '{{instance}} {{controller}}')],
               'bool_yes_no',
               w=6,
               h=6,
               steps=[],
               graph=false) { fieldConfig+: { defaults+: { thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] } } } },
        p.stat('Critical warning',
               ['tierscope_nvme_critical_warning'],
               [p.target(q.s('tierscope_nvme_critical_warning', ctl), '{{instance}} {{controller}}')],
               'none',
               w=6,
               h=6,
               steps=[[1, 'red']],
               graph=false,
               decimals=0),
        p.stat('Media errors (lifetime)',
               ['tierscope_nvme_media_errors_total'],
               [p.target(q.s('tierscope_nvme_media_errors_total', ctl), '{{instance}} {{controller}}')],
               'none',
               w=6,
               h=6,
               steps=[[1, 'red']],
               decimals=0),
        p.stat('Data written (lifetime)',
               ['tierscope_nvme_data_written_bytes_total'],
               [p.target(q.s('tierscope_nvme_data_written_bytes_total', ctl), '{{instance}} {{controller}}')],
               'decbytes',
               w=6,
               h=6,
               note='As the drive counts it, in units of 512 000 bytes.'),
      ],
      [
        p.timeseries('Temperature',
                     ['tierscope_nvme_temperature_celsius'],
                     [p.target(q.s('tierscope_nvme_temperature_celsius', ctl), '{{instance}} {{controller}}')],
                     'celsius',
                     w=6),
        p.timeseries('Percentage used',
                     ['tierscope_nvme_percentage_used_ratio'],
                     [p.target(q.s('tierscope_nvme_percentage_used_ratio', ctl), '{{instance}} {{controller}}')],
                     'percentunit',
                     w=6,
                     min=0),
        p.timeseries('Available spare and threshold', ['tierscope_nvme_available_spare_ratio', 'tierscope_nvme_available_spare_threshold_ratio'], [
          p.target(q.s('tierscope_nvme_available_spare_ratio', ctl), '{{instance}} {{controller}} spare'),
          p.target(q.s('tierscope_nvme_available_spare_threshold_ratio', ctl), '{{instance}} {{controller}} threshold'),
        ], 'percentunit', w=6, min=0, max=1),
        p.timeseries('Data read and written per second (drive count)', ['tierscope_nvme_data_written_bytes_total', 'tierscope_nvme_data_read_bytes_total'], [
          p.target(q.rate('tierscope_nvme_data_written_bytes_total', ctl), '{{instance}} {{controller}} written'),
          p.target(q.rate('tierscope_nvme_data_read_bytes_total', ctl), '{{instance}} {{controller}} read'),
        ], 'Bps', w=6, note='The drive counts in units of 512 000 bytes and the log is read every nvme.health_interval: a coarse rate.', min=0),
      ],
    ],
  )
