#include "exporters/render.h"

#include <chrono>

#include "core/build_info.h"
#include "core/metric_catalog.h"
#include "probes/registry.h"

namespace tierscope {

void render_snapshot(const Snapshot& s, MetricWriter& w) {
  const ProbeRegistry& registry = s.registry ? *s.registry : ProbeRegistry::builtin();
  for (const auto* probe : registry.probes) probe->render(s, w);
  for (const auto* step : registry.steps)
    if (step->render) step->render(s, w);

  for (const auto& run : s.probes) {
    w.add(metric::probe_success, run.status == ProbeStatus::error ? 0 : 1, {{"probe", run.probe}});
    w.add(metric::probe_duration, run.duration_seconds, {{"probe", run.probe}});
  }
  w.add(metric::samples_total, static_cast<double>(s.samples_total));
  w.add(metric::sample_overruns, static_cast<double>(s.overruns_total));
  w.add(metric::sample_interval, s.interval_seconds);
  w.add(metric::peak_window, s.peak_window_seconds);
  w.add(metric::last_sample_time,
        std::chrono::duration<double>(s.taken_wall.time_since_epoch()).count());
}

void render_build_info(MetricWriter& w) {
  w.add(metric::build_info, 1,
        {{"version", build::kVersion}, {"revision", build::kRevision}, {"compiler", build::kCompiler}});
}

}  // namespace tierscope
