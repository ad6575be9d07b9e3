// Alerts; each has a runbook line in the README ("Dashboards and alerts").
// The thresholds are in _config (mixin.libsonnet).
local catalog = import 'catalog.libsonnet';

function(config)
  local S = config.tierscopeSelector;
  local s(m, extra='') = '%s{%s}' % [catalog.m(m), S + (if extra == '' then '' else ', ' + extra)];
  local alert(name, expr, forDuration, severity, summary, description) = {
    alert: name,
    expr: expr,
    [if forDuration != '0m' then 'for']: forDuration,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook: 'README.md of tierscope (%s), section "Dashboards and alerts", %s.' % [config.readmePath, name],
    },
  };
  {
    groups: [{
      name: 'tierscope',
      rules: [
        alert('TierscopeDown', 'up{%s} == 0' % S, config.downFor, 'critical',
              'tierscope on {{ $labels.instance }} is not answering scrapes.',
              'Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for %s: no memory, SSD or GPU figures from this machine.' % config.downFor),
        alert('TierscopeProbeFailing', '%s == 0' % s('tierscope_probe_success'), config.probeFailingFor, 'warning',
              'tierscope probe {{ $labels.probe }} fails on {{ $labels.instance }}.',
              'The probe {{ $labels.probe }} has failed every run for %s; its metrics are absent. The daemon log says why.' % config.probeFailingFor),
        alert('TierscopeSamplerOverruns',
              'rate(%s[15m]) / rate(%s[15m]) > %g' % [s('tierscope_sample_overruns_total'), s('tierscope_samples_total'), config.samplerOverrunRatio],
              '15m', 'warning',
              'tierscope on {{ $labels.instance }} cannot keep its sampling interval.',
              'Sampler ticks that overran the interval, per sample taken, over 15 minutes: {{ $value | humanizePercentage }} (threshold %g %%); missed ticks are skipped, so the peaks and rates are coarser than configured.' % (config.samplerOverrunRatio * 100)),
        alert('TierscopeNvmeCriticalWarning', '%s > 0' % s('tierscope_nvme_critical_warning'), '0m', 'critical',
              'NVMe {{ $labels.controller }} on {{ $labels.instance }} reports a critical warning.',
              'SMART/health critical warning = {{ $value }} (bits: 1 spare below threshold, 2 temperature, 4 reliability degraded, 8 read-only, 16 volatile memory backup failed, 32 PMR read-only).'),
        alert('TierscopeNvmeTemperatureHigh', '%s >= %d' % [s('tierscope_nvme_temperature_celsius'), config.nvmeTemperatureCelsius],
              config.nvmeTemperatureFor, 'warning',
              'NVMe {{ $labels.controller }} on {{ $labels.instance }} runs hot.',
              'Composite temperature {{ $value }} °C, at or above %d °C for %s.' % [config.nvmeTemperatureCelsius, config.nvmeTemperatureFor]),
        alert('TierscopeNvmeSpareLow',
              '%s < on (job, instance, controller) (%s + %g)' % [s('tierscope_nvme_available_spare_ratio'), s('tierscope_nvme_available_spare_threshold_ratio'), config.nvmeSpareMargin],
              '0m', 'warning',
              'NVMe {{ $labels.controller }} on {{ $labels.instance }} is running out of spare blocks.',
              'Available spare {{ $value | humanizePercentage }}, less than %g points above the threshold the drive reports; below the threshold the drive sets critical warning bit 0.' % (config.nvmeSpareMargin * 100)),
        alert('TierscopeNvmeMediaErrors', 'increase(%s[1h]) > 0' % s('tierscope_nvme_media_errors_total'), '0m', 'warning',
              'NVMe {{ $labels.controller }} on {{ $labels.instance }} reports new media errors.',
              'Unrecovered media and data integrity errors rose by {{ $value }} within the last hour.'),
        alert('TierscopeSwapThrashing',
              'rate(%s[5m]) > %g and on (job, instance) rate(%s[5m]) > %g' % [
                s('tierscope_swap_in_pages_total'), config.swapInPagesPerSecond,
                s('tierscope_pressure_stalled_seconds_total', 'resource="memory", kind="full"'), config.psiMemoryFullRatio,
              ],
              config.thrashingFor, 'warning',
              '{{ $labels.instance }} is thrashing: swap-in with memory fully stalled.',
              'More than %g pages/s swapped in (now {{ $value | humanize }} pages/s) while all non-idle tasks were stalled on memory more than %g %% of the time, for %s.' % [config.swapInPagesPerSecond, config.psiMemoryFullRatio * 100, config.thrashingFor]),
        alert('TierscopeGpuLost',
              'increase(%(m)s[10m]) > 0 or (%(m)s unless %(m)s offset 10m)' % { m: s('tierscope_gpu_probe_errors_total', 'error="GPU_IS_LOST"') },
              '0m', 'critical',
              'A {{ $labels.vendor }} GPU on {{ $labels.instance }} fell off the bus.',
              'The driver call {{ $labels.call }} returned GPU_IS_LOST within the last 10 minutes; the probe re-initialises the driver with backoff, and the GPU metrics are absent until it answers.'),
      ],
    }],
  }
