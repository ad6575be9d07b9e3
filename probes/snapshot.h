#pragma once
// One immutable sample of the host: each probe's typed reading (absent when
// the probe is disabled, found nothing, or failed), how each probe ran, what
// the history ring derived (peaks), and the sampler's own counters. The
// sampler builds it, publishes it as shared_ptr<const Snapshot>, and never
// touches it again; scrapes render it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probes/diskstats.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu.h"
#include "probes/meminfo.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/pressure.h"
#include "probes/probe.h"
#include "probes/swaps.h"
#include "probes/vmstat.h"
#include "probes/workload.h"

namespace tierscope {

struct ProbeRun {
  std::string probe;
  ProbeStatus status = ProbeStatus::ok;
  double duration_seconds = 0;
  std::string error;
};

// Highest per-interval rates within the peak window (see daemon/peaks.h).
struct DiskPeak {
  std::string device;
  double read_iops = 0, write_iops = 0;
  double read_bytes_per_second = 0, write_bytes_per_second = 0;
};
struct SwapPeak {
  double in_pages_per_second = 0, out_pages_per_second = 0;
};

struct Snapshot {
  std::uint64_t sequence = 0;
  std::chrono::steady_clock::time_point taken_steady{};
  std::chrono::system_clock::time_point taken_wall{};

  std::optional<MemInfo> meminfo;
  std::optional<VmStat> vmstat;
  std::optional<Pressure> pressure;
  std::optional<Swaps> swaps;
  std::optional<DiskStats> diskstats;
  std::optional<NvmeInventory> nvme;
  OffloadVerdict offload;
  std::optional<WorkloadProcesses> workload;  // watched processes (config: workload)
  std::optional<GpuInventory> nvml;           // NVIDIA GPUs
  std::optional<GpuInventory> amdgpu;         // AMD GPUs
  std::optional<DrmMemoryUsage> drm_fdinfo;   // per-process DRM memory of the workload

  std::vector<ProbeRun> probes;
  std::vector<DiskPeak> disk_peaks;   // empty until two samples exist
  std::optional<SwapPeak> swap_peak;  // likewise

  std::uint64_t samples_total = 0;
  std::uint64_t overruns_total = 0;
  double interval_seconds = 0;
  double peak_window_seconds = 0;
};

}  // namespace tierscope
