#include "exporters/render.h"

#include <chrono>

#include "core/build_info.h"
#include "core/metric_catalog.h"

namespace tierscope {

void render_snapshot(const Snapshot& s, MetricWriter& w) {
  if (s.meminfo) render_meminfo(*s.meminfo, w);
  if (s.vmstat) render_vmstat(*s.vmstat, w);
  if (s.pressure) render_pressure(*s.pressure, w);
  if (s.swaps) render_swaps(*s.swaps, w);
  if (s.diskstats) render_diskstats(*s.diskstats, w);
  if (s.nvme) render_nvme(*s.nvme, s.offload, w);
  render_offload(s.offload, w);
  const WorkloadProcesses* watched = s.workload ? &*s.workload : nullptr;
  if (s.workload) render_workload(*s.workload, w);
  if (s.nvml) render_gpus(*s.nvml, watched, w);
  if (s.amdgpu) render_gpus(*s.amdgpu, watched, w);
  if (s.drm_fdinfo) render_drm_fdinfo(*s.drm_fdinfo, s.amdgpu ? &*s.amdgpu : nullptr, watched, w);

  for (const auto& p : s.disk_peaks) {
    w.add(metric::disk_iops_peak, p.read_iops, {{"device", p.device}, {"op", "read"}});
    w.add(metric::disk_iops_peak, p.write_iops, {{"device", p.device}, {"op", "write"}});
    w.add(metric::disk_throughput_peak, p.read_bytes_per_second, {{"device", p.device}, {"op", "read"}});
    w.add(metric::disk_throughput_peak, p.write_bytes_per_second, {{"device", p.device}, {"op", "write"}});
  }
  if (s.swap_peak) {
    w.add(metric::swap_peak, s.swap_peak->in_pages_per_second, {{"direction", "in"}});
    w.add(metric::swap_peak, s.swap_peak->out_pages_per_second, {{"direction", "out"}});
  }

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
