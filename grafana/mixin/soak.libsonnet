// Soak: slopes and verdicts per tier (with soak runs), the daemon's own
// footprint, recorder health.
local dashboard = import 'dashboard.libsonnet';
local p = import 'panels.libsonnet';
local q = import 'promql.libsonnet';

function(config)
  dashboard.new(
    'tierscope / Soak',
    'tierscope-soak',
    "Does anything leak over a long run: the daemon's own resident memory, file descriptors and CPU; slopes, verdicts and recorder health arrive with soak runs.",
    dashboard.jobInstanceVariables(config.tierscopeSelector, 'tierscope_build_info'),
    [
      [p.text('Not yet: slopes, verdicts and recorder health', |||
        **Slopes, verdicts and recorder health arrive with soak runs.** The soak and recorder metrics (per-tier growth slopes, LEAK/STABLE verdicts, time to OOM, dropped recorder samples) are not exported yet; their panels will be added here when they are. Until then this dashboard shows the daemon's own footprint.
      |||, h=3)],
      [p.text('How to read this dashboard', |||
        A healthy daemon's resident memory and open file descriptors level off after start-up and stay flat; a line that keeps climbing over hours is a leak. CPU is the daemon's CPU time per second (1 = one core). Sampler overruns count ticks whose sampling took longer than the interval.
      |||, h=3)],
      [
        p.timeseries('Daemon resident memory',
                     ['process_resident_memory_bytes'],
                     [p.target(q.s('process_resident_memory_bytes'), '{{instance}}')],
                     'bytes',
                     min=0),
        p.timeseries('Daemon open file descriptors', ['process_open_fds', 'process_max_fds'], [
          p.target(q.s('process_open_fds'), '{{instance}} open'),
          p.target(q.s('process_max_fds'), '{{instance}} limit'),
        ], 'none', min=0),
        p.timeseries('Daemon CPU',
                     ['process_cpu_seconds_total'],
                     [p.target(q.rate('process_cpu_seconds_total'), '{{instance}}')],
                     'percentunit',
                     note='CPU time per second of wall-clock time (1 = one core).',
                     min=0),
      ],
      [
        p.timeseries('Daemon virtual memory',
                     ['process_virtual_memory_bytes'],
                     [p.target(q.s('process_virtual_memory_bytes'), '{{instance}}')],
                     'bytes',
                     min=0),
        p.timeseries('Samples and overruns', ['tierscope_samples_total', 'tierscope_sample_overruns_total'], [
          p.target(q.rate('tierscope_samples_total'), '{{instance}} samples'),
          p.target(q.rate('tierscope_sample_overruns_total'), '{{instance}} overruns'),
        ], 'suffix: /s', note='Samples taken and ticks overrun per second.', min=0),
        p.stat('Daemon uptime',
               ['process_start_time_seconds'],
               [p.target('time() - %s' % q.s('process_start_time_seconds'), '{{instance}}')],
               's',
               w=8,
               h=8,
               note='Now minus the start time of the daemon process.',
               graph=false),
      ],
    ],
  )
