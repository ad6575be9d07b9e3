// GPU: utilization, memory (discrete and unified), power and energy,
// temperature, clocks, throttle reasons, per-process memory of the workload;
// the CPU's power, temperatures and throttling beside the GPU's.
local dashboard = import 'dashboard.libsonnet';
local p = import 'panels.libsonnet';
local q = import 'promql.libsonnet';

function(config)
  local g = 'gpu=~"$gpu"';
  local used = 'tierscope_memory_used_bytes';
  local cap = 'tierscope_memory_capacity_bytes';
  dashboard.new(
    'tierscope / GPU',
    'tierscope-gpu',
    "GPU utilization, memory (discrete VRAM, GTT, unified), power and energy, temperature, clocks, throttle reasons and the watched workload's GPU memory; CPU package power, temperatures and thermal throttling beside them.",
    dashboard.jobInstanceVariables(config.tierscopeSelector, 'tierscope_build_info') + [
      dashboard.queryVariable('gpu', 'GPU', 'label_values(tierscope_gpu_info{job=~"$job", instance=~"$instance"}, gpu)'),
    ],
    [
      [p.text('How to read this dashboard', |||
        **Memory:** a discrete GPU has VRAM (and on AMD, GTT: system RAM mapped for the GPU); a unified-memory GPU (memory_model=unified: DGX Spark GB10, Strix Halo) allocates out of system RAM, shown as *unified*, which is part of RAM and must not be added to it. VRAM and GTT are separate tiers.
        **Power:** on an AMD APU the hwmon power and energy cover the whole package, CPU included. **Throttle reasons** are NVML's clocks-event reasons, one lane per reason, red while active. Panels stay empty for what a vendor does not report (PCIe throughput and throttle reasons are NVML only, visible VRAM amdgpu only).
      |||, h=4)],
      [p.table('GPUs',
               ['tierscope_gpu_info'],
               [p.tableTarget(q.s('tierscope_gpu_info', g))],
               w=24,
               h=5,
               hide=['Time', 'Value', '__name__', 'job'])],
      [
        p.timeseries('Utilization', ['tierscope_gpu_utilization_ratio', 'tierscope_gpu_memory_utilization_ratio'], [
          p.target(q.s('tierscope_gpu_utilization_ratio', g), '{{instance}} {{gpu}} busy'),
          p.target(q.s('tierscope_gpu_memory_utilization_ratio', g), '{{instance}} {{gpu}} memory busy'),
        ], 'percentunit', min=0, max=1),
        p.timeseries('GPU memory: used and capacity', [used, cap], [
          p.target(q.s(used, 'tier=~"vram|gtt|unified", device=~"$gpu"'), '{{instance}} {{device}} {{tier}} used'),
          p.target(q.s(cap, 'tier=~"vram|gtt", device=~"$gpu"'), '{{instance}} {{device}} {{tier}} capacity'),
        ], 'bytes', min=0),
        p.timeseries('Memory of the processes the driver lists',
                     ['tierscope_gpu_process_memory_sum_bytes'],
                     [p.target(q.s('tierscope_gpu_process_memory_sum_bytes', g), '{{instance}} {{gpu}}')],
                     'bytes',
                     min=0),
      ],
      [
        p.timeseries('Power',
                     ['tierscope_gpu_power_watts'],
                     [p.target(q.s('tierscope_gpu_power_watts', g), '{{instance}} {{gpu}}')],
                     'watt',
                     min=0),
        p.timeseries('Energy per interval',
                     ['tierscope_gpu_energy_joules_total'],
                     [p.target(q.increase('tierscope_gpu_energy_joules_total', g), '{{instance}} {{gpu}}')],
                     'joule',
                     note='Energy used within each rate interval.',
                     min=0),
        p.timeseries('Temperature',
                     ['tierscope_gpu_temperature_celsius'],
                     [p.target(q.s('tierscope_gpu_temperature_celsius', g), '{{instance}} {{gpu}} {{sensor}}')],
                     'celsius'),
      ],
      [
        p.timeseries('CPU power (RAPL)',
                     ['tierscope_cpu_energy_joules_total'],
                     [p.target(q.rate('tierscope_cpu_energy_joules_total'), '{{instance}} {{zone}}')],
                     'watt',
                     note='Rate of the RAPL energy counter per zone. package-N is the whole socket (core and uncore are parts of it, dram is not); psys, where present, is the platform. Absent when tierscope cannot read energy_uj (root only since Linux 5.10). On an AMD APU the GPU power above includes the CPU.',
                     min=0),
        p.timeseries('CPU temperature',
                     ['tierscope_cpu_temperature_celsius', 'tierscope_cpu_temperature_critical_celsius'],
                     [
                       p.target(q.s('tierscope_cpu_temperature_celsius'), '{{instance}} {{chip}} {{sensor}}'),
                       p.target('max by (instance, chip) (%s)' % q.s('tierscope_cpu_temperature_critical_celsius'), '{{instance}} {{chip}} critical'),
                     ],
                     'celsius'),
        p.timeseries('CPU thermal throttling',
                     ['tierscope_cpu_thermal_throttle_total'],
                     [p.target(q.increase('tierscope_cpu_thermal_throttle_total'), '{{instance}} {{kind}}')],
                     'short',
                     note='Throttle events per rate interval (x86 thermal interrupt): core events summed over the CPUs, package events over the packages.',
                     min=0),
      ],
      [
        p.timeseries('Clocks',
                     ['tierscope_gpu_clock_hertz'],
                     [p.target(q.s('tierscope_gpu_clock_hertz', g), '{{instance}} {{gpu}} {{clock}}')],
                     'hertz',
                     min=0),
        p.stateTimeline('Throttle reasons (NVML clocks events)',
                        ['tierscope_gpu_throttle_reason_active', 'tierscope_gpu_throttle_reasons'],
                        [p.target(q.s('tierscope_gpu_throttle_reason_active', g), '{{instance}} {{gpu}} {{reason}}')],
                        'bool_on_off',
                        w=16,
                        h=8),
      ],
      [
        p.timeseries('PCIe throughput',
                     ['tierscope_gpu_pcie_throughput_bytes_per_second'],
                     [p.target(q.s('tierscope_gpu_pcie_throughput_bytes_per_second', g), '{{instance}} {{gpu}} {{direction}}')],
                     'Bps',
                     min=0),
        p.timeseries('CPU-visible VRAM (amdgpu)', ['tierscope_gpu_visible_vram_used_bytes', 'tierscope_gpu_visible_vram_capacity_bytes'], [
          p.target(q.s('tierscope_gpu_visible_vram_used_bytes', g), '{{instance}} {{gpu}} used'),
          p.target(q.s('tierscope_gpu_visible_vram_capacity_bytes', g), '{{instance}} {{gpu}} capacity'),
        ], 'bytes', min=0),
        p.timeseries('Reserved by driver and firmware (NVML)',
                     ['tierscope_gpu_memory_reserved_bytes'],
                     [p.target(q.s('tierscope_gpu_memory_reserved_bytes', g), '{{instance}} {{gpu}}')],
                     'bytes',
                     min=0),
      ],
      [p.row('Watched workload')],
      [
        p.timeseries('Workload GPU memory per process',
                     ['tierscope_process_gpu_memory_bytes'],
                     [p.target(q.s('tierscope_process_gpu_memory_bytes'), '{{instance}} {{comm}} ({{pid}}) {{gpu}} {{region}}')],
                     'bytes',
                     w=24,
                     h=9,
                     stack=true,
                     note='Not filtered by the GPU variable: DRM fdinfo names a GPU by its PCI address, NVML by its index.'),
      ],
    ],
  )
