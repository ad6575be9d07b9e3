// Memory tiers: the byte-level composition over time, swap traffic, faults
// and pressure; the host beside the watched workload.
local dashboard = import 'dashboard.libsonnet';
local p = import 'panels.libsonnet';
local q = import 'promql.libsonnet';

function(config)
  local used = 'tierscope_memory_used_bytes';
  local cap = 'tierscope_memory_capacity_bytes';
  dashboard.new(
    'tierscope / Memory tiers',
    'tierscope-memory-tiers',
    'Where the bytes are over time: GPU VRAM, GTT, RAM (anonymous, page cache, shmem) and each swap area; swap traffic, major faults and memory pressure; the watched workload beside the host.',
    dashboard.jobInstanceVariables(config.tierscopeSelector, 'tierscope_build_info'),
    [
      [p.text('How to read this dashboard', |||
        **Composition:** one stacked band per place the bytes live: VRAM on the GPU, GTT (system RAM mapped for the GPU), anonymous RAM, page cache, shmem/tmpfs, then each swap area on the SSD. The bands are separate tiers, so the top of the stack is bytes across places, not the size of one tier; a unified-memory GPU's allocation is part of RAM and is shown on the right, not stacked.
        **Traffic:** swap-in is memory coming back from the SSD tier, swap-out memory going to it; the peaks are the highest per-sample rates between scrapes. Sustained swap-in while *memory full* pressure is above zero is thrashing: the workload waits on the SSD.
      |||, h=4)],
      [p.row('Host')],
      [
        p.timeseries('Memory composition (stacked)', [used, 'tierscope_memory_anon_bytes', 'tierscope_memory_page_cache_bytes', 'tierscope_memory_shmem_bytes'], [
          p.target(q.s(used, 'tier="vram"'), '{{instance}} GPU VRAM {{device}}'),
          p.target(q.s(used, 'tier="gtt"'), '{{instance}} GTT {{device}}'),
          p.target(q.s('tierscope_memory_anon_bytes'), '{{instance}} RAM anon'),
          p.target(q.s('tierscope_memory_page_cache_bytes'), '{{instance}} page cache'),
          p.target(q.s('tierscope_memory_shmem_bytes'), '{{instance}} shmem'),
          p.target(q.s(used, 'tier="swap"'), '{{instance}} swap {{device}}'),
        ], 'bytes', w=16, h=10, stack=true, note='Stacked bytes per tier; the tiers are separate places, see the text above.', calcs=['lastNotNull', 'max']),
        p.timeseries('RAM and GPU memory: used and capacity', [used, cap, 'tierscope_memory_available_bytes'], [
          p.target(q.s(used, 'tier=~"ram|vram|gtt|unified"'), '{{instance}} {{tier}} {{device}} used'),
          p.target(q.s(cap, 'tier=~"ram|vram|gtt"'), '{{instance}} {{tier}} {{device}} capacity'),
          p.target(q.s('tierscope_memory_available_bytes'), '{{instance}} RAM available'),
        ], 'bytes', w=8, h=10, min=0),
      ],
      [
        p.timeseries('Swap used per area (stacked)',
                     [used],
                     [p.target(q.s(used, 'tier="swap"'), '{{instance}} {{device}}')],
                     'bytes',
                     w=12,
                     stack=true),
        p.bargauge('Swap fill per area',
                   [used, cap],
                   [p.target('%s / %s' % [q.s(used, 'tier="swap"'), q.s(cap, 'tier="swap"')], '{{instance}} {{device}}')],
                   'percentunit',
                   w=12,
                   h=8,
                   note='Used over capacity of each swap area.',
                   steps=[[0.5, 'orange'], [0.9, 'red']]),
      ],
      [
        p.timeseries('Swap in / out', ['tierscope_swap_in_pages_total', 'tierscope_swap_out_pages_total'], [
          p.target(q.rate('tierscope_swap_in_pages_total'), '{{instance}} in'),
          p.target(q.rate('tierscope_swap_out_pages_total'), '{{instance}} out'),
        ], 'suffix: pages/s', note='Pages per second, averaged over the rate interval.', min=0),
        p.timeseries('Swap peak (sub-second)',
                     ['tierscope_swap_pages_peak_per_second'],
                     [p.target(q.s('tierscope_swap_pages_peak_per_second'), '{{instance}} {{direction}}')],
                     'suffix: pages/s',
                     min=0),
        p.timeseries('Major page faults',
                     ['tierscope_page_major_faults_total'],
                     [p.target(q.rate('tierscope_page_major_faults_total'), '{{instance}}')],
                     'suffix: faults/s',
                     note='Major faults per second, averaged over the rate interval.',
                     min=0),
      ],
      [
        p.timeseries('Memory pressure (PSI some / full)',
                     ['tierscope_pressure_stalled_seconds_total'],
                     [p.target(q.rate('tierscope_pressure_stalled_seconds_total', 'resource="memory"'), '{{instance}} {{kind}}')],
                     'percentunit',
                     w=12,
                     note='Share of time stalled on memory (rate of the stall counter).',
                     min=0),
        p.timeseries('Paging and OOM kills', ['tierscope_page_in_bytes_total', 'tierscope_page_out_bytes_total'], [
          p.target(q.rate('tierscope_page_in_bytes_total'), '{{instance}} paged in'),
          p.target(q.rate('tierscope_page_out_bytes_total'), '{{instance}} paged out'),
        ], 'Bps', w=6, note='Bytes paged in from and out to block devices per second (file pages and swap).', min=0),
        p.stat('OOM kills',
               ['tierscope_oom_kills_total'],
               [p.target(q.increase('tierscope_oom_kills_total'), '{{instance}}')],
               'none',
               w=6,
               h=8,
               note='Processes killed by the OOM killer within the last rate interval.',
               steps=[[1, 'red']],
               decimals=0),
      ],
      [p.row('Host and watched workload, side by side')],
      [
        p.timeseries('Host: GPU memory used',
                     [used],
                     [p.target(q.s(used, 'tier=~"vram|gtt|unified"'), '{{instance}} {{tier}} {{device}}')],
                     'bytes',
                     w=9,
                     h=9,
                     note='What the whole machine has on each GPU tier (unified: allocated out of RAM).',
                     min=0),
        p.timeseries('Workload: GPU memory per process (stacked)',
                     ['tierscope_process_gpu_memory_bytes'],
                     [p.target(q.s('tierscope_process_gpu_memory_bytes'), '{{instance}} {{comm}} ({{pid}}) {{gpu}} {{region}}')],
                     'bytes',
                     w=9,
                     h=9,
                     stack=true),
        p.table('Watched processes',
                ['tierscope_workload_process_info'],
                [p.tableTarget(q.s('tierscope_workload_process_info'))],
                w=6,
                h=9,
                hide=['Time', 'Value', '__name__', 'job']),
      ],
    ],
  )
