// The tierscope monitoring mixin: six Grafana dashboards, recording rules and
// alerts. Override _config to change the job selectors or thresholds:
//   (import 'mixin.libsonnet') + { _config+:: { tierscopeSelector: 'job="node-ssd"' } }
{
  _config:: {
    // The daemon's scrape job, the bench's live /metrics job, and the soak
    // runs' live /metrics job (tierscope soak, tierscope-soak@NAME.service).
    tierscopeSelector: 'job="tierscope"',
    benchSelector: 'job="tierscope-bench"',
    soakSelector: 'job="tierscope-soak"',
    // The Soak dashboard shows both: the soak runs and the daemon's own footprint.
    soakDashboardSelector: 'job=~"tierscope|tierscope-soak"',
    readmePath: '/usr/share/doc/tierscope/README.md',

    downFor: '5m',
    probeFailingFor: '10m',
    samplerOverrunRatio: 0.01,  // overruns per sample, over 15 minutes
    nvmeTemperatureCelsius: 70,
    nvmeTemperatureFor: '10m',
    nvmeSpareMargin: 0.1,  // alert this far (ratio) above the drive's own threshold
    swapInPagesPerSecond: 1000,
    psiMemoryFullRatio: 0.05,
    thrashingFor: '10m',
    soakLeakFor: '15m',  // a LEAK verdict that holds over this many checkpoints' time
    soakOomWithinSeconds: 6 * 3600,  // a growing subject would run out of memory within this
  },

  grafanaDashboards:: {
    'overview.json': (import 'mixin/overview.libsonnet')($._config),
    'memory-tiers.json': (import 'mixin/memory-tiers.libsonnet')($._config),
    'ssd-nvme.json': (import 'mixin/ssd-nvme.libsonnet')($._config),
    'gpu.json': (import 'mixin/gpu.libsonnet')($._config),
    'benchmark.json': (import 'mixin/benchmark.libsonnet')($._config),
    'soak.json': (import 'mixin/soak.libsonnet')($._config),
  },
  prometheusRules:: (import 'mixin/rules.libsonnet')($._config),
  prometheusAlerts:: (import 'mixin/alerts.libsonnet')($._config),
}
