// Overview: is the machine healthy, where is memory, is the SSD tier in use.
local dashboard = import 'dashboard.libsonnet';
local p = import 'panels.libsonnet';
local q = import 'promql.libsonnet';

function(config)
  local used = 'tierscope_memory_used_bytes';
  local cap = 'tierscope_memory_capacity_bytes';
  dashboard.new(
    'tierscope / Overview',
    'tierscope-overview',
    'Is the machine healthy, where is its memory, is the SSD tier in use.',
    dashboard.jobInstanceVariables(config.tierscopeSelector, 'tierscope_build_info'),
    [
      [p.text('How to read this dashboard', |||
        **Top row:** how full RAM and swap are, how much of the time every task was stalled waiting for memory (PSI full), how fast pages come back from swap (the SSD tier in use), and whether the daemon itself is healthy (failing probes, sampler overruns): green is fine, orange and red need a look.
        **Below:** each tier's used bytes against its capacity (VRAM, GTT, RAM, each swap area; a unified-memory GPU's allocation is part of RAM and has no capacity of its own), pressure stall for CPU, memory and IO, SSD operations per second with the sub-second peaks the daemon saw between scrapes, GPU busy time, and what the daemon costs. Other dashboards go deeper: see the *tierscope* menu at the top right.
      |||, h=4)],
      [
        p.stat('RAM used', [used, cap], [p.target('%s / %s' % [q.s(used, 'tier="ram"'), q.s(cap, 'tier="ram"')], '{{instance}}')],
               'percentunit', note='RAM used / RAM capacity (MemTotal - MemAvailable over MemTotal).', steps=[[0.85, 'orange'], [0.95, 'red']]),
        p.stat('Swap used', [used, cap], [p.target('sum by (job, instance) (%s) / sum by (job, instance) (%s)' % [q.s(used, 'tier="swap"'), q.s(cap, 'tier="swap"')], '{{instance}}')],
               'percentunit', note='Used bytes of every swap area over their capacity, summed per instance.', steps=[[0.5, 'orange'], [0.9, 'red']]),
        p.stat('Memory pressure (full)', ['tierscope_pressure_stalled_seconds_total'],
               [p.target(q.rate('tierscope_pressure_stalled_seconds_total', 'resource="memory", kind="full"'), '{{instance}}')],
               'percentunit', note='Share of wall-clock time in which all non-idle tasks were stalled on memory (rate of the stall counter).', steps=[[0.05, 'orange'], [0.2, 'red']]),
        p.stat('Swap-in (SSD tier read back)', ['tierscope_swap_in_pages_total'],
               [p.target(q.rate('tierscope_swap_in_pages_total'), '{{instance}}')], 'suffix: pages/s',
               note='Pages read back from swap per second: the SSD tier in use.'),
        p.stat('Probes failing', ['tierscope_probe_success'],
               [p.target('sum by (job, instance) (1 - %s)' % q.s('tierscope_probe_success'), '{{instance}}')], 'none',
               note='Number of probes whose last run failed (0: all succeeded or found no hardware).', steps=[[1, 'red']], graph=false),
        p.stat('Sampler overruns', ['tierscope_sample_overruns_total'],
               [p.target(q.increase('tierscope_sample_overruns_total'), '{{instance}}')], 'none',
               note='Sampler ticks that overran the interval within the last rate interval.', steps=[[1, 'orange']], decimals=0),
      ],
      [
        p.timeseries('Memory tiers: used and capacity', [used, cap], [
          p.target(q.s(used), '{{instance}} {{tier}} {{device}} used'),
          p.target(q.s(cap), '{{instance}} {{tier}} {{device}} capacity'),
        ], 'bytes', w=12, h=9),
        p.bargauge('Tier fill (used / capacity)', [used, cap],
                   [p.target('%s / %s' % [q.s(used), q.s(cap)], '{{instance}} {{tier}} {{device}}')],
                   'percentunit', w=12, h=9, note='Used over capacity of each tier and device (tiers without a capacity, such as unified, are not shown).',
                   steps=[[0.85, 'orange'], [0.95, 'red']]),
      ],
      [
        p.timeseries('Pressure stall (PSI)', ['tierscope_pressure_stalled_seconds_total'],
                     [p.target(q.rate('tierscope_pressure_stalled_seconds_total'), '{{instance}} {{resource}} {{kind}}')],
                     'percentunit', note='Share of time stalled (rate of the stall counter), per resource and kind.', min=0),
        p.timeseries('SSD operations per second', ['tierscope_disk_reads_completed_total', 'tierscope_disk_writes_completed_total'], [
          p.target(q.rate('tierscope_disk_reads_completed_total'), '{{instance}} {{device}} read'),
          p.target(q.rate('tierscope_disk_writes_completed_total'), '{{instance}} {{device}} write'),
        ], 'iops', note='Completed reads and writes per second, averaged over the rate interval.', min=0),
        p.timeseries('SSD IOPS peak (sub-second)', ['tierscope_disk_iops_peak'],
                     [p.target(q.s('tierscope_disk_iops_peak'), '{{instance}} {{device}} {{op}}')], 'iops',
                     note='The highest per-sample IOPS within the peak window: bursts a scrape-interval average hides.', min=0),
      ],
      [
        p.timeseries('GPU utilization', ['tierscope_gpu_utilization_ratio'],
                     [p.target(q.s('tierscope_gpu_utilization_ratio'), '{{instance}} {{gpu}}')], 'percentunit', min=0, max=1),
        p.timeseries('Probe run time', ['tierscope_probe_duration_seconds'],
                     [p.target(q.s('tierscope_probe_duration_seconds'), '{{instance}} {{probe}}')], 's', min=0),
        p.timeseries('Daemon CPU', ['process_cpu_seconds_total'],
                     [p.target(q.rate('process_cpu_seconds_total'), '{{instance}}')], 'percentunit', w=4,
                     note='CPU time of the daemon per second of wall-clock time (1 = one core).', min=0),
        p.timeseries('Daemon memory', ['process_resident_memory_bytes'],
                     [p.target(q.s('process_resident_memory_bytes'), '{{instance}}')], 'bytes', w=4, min=0),
      ],
    ],
  )
