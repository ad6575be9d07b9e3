#include "daemon/probe_set.h"

#include "daemon/config.h"
#include "probes/diskstats.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu_amdgpu.h"
#include "probes/gpu_nvml.h"
#include "probes/meminfo.h"
#include "probes/nvme.h"
#include "probes/nvme_libnvme.h"
#include "probes/pressure.h"
#include "probes/swaps.h"
#include "probes/vmstat.h"
#include "probes/workload.h"

namespace tierscope {

std::vector<std::unique_ptr<Probe>> make_probes(const Config& config) {
  std::vector<std::unique_ptr<Probe>> probes;
  for (auto name : kProbeNames) {
    if (!config.probe_enabled(name)) continue;
    if (name == "meminfo") probes.push_back(std::make_unique<MemInfoProbe>());
    else if (name == "vmstat") probes.push_back(std::make_unique<VmStatProbe>());
    else if (name == "pressure") probes.push_back(std::make_unique<PressureProbe>());
    else if (name == "swaps") probes.push_back(std::make_unique<SwapsProbe>());
    else if (name == "diskstats")
      probes.push_back(std::make_unique<DiskStatsProbe>(DeviceFilter(config.device_include, config.device_exclude)));
    else if (name == "nvme")
      probes.push_back(
          std::make_unique<NvmeProbe>(std::make_shared<LibnvmeAdminChannel>(), config.nvme.health_interval));
    else if (name == "workload")
      probes.push_back(std::make_unique<WorkloadProbe>(config.workload, config.nvml.process_interval));
    else if (name == "gpu_nvml") probes.push_back(std::make_unique<NvmlProbe>(config.nvml));
    else if (name == "gpu_amdgpu") probes.push_back(std::make_unique<AmdGpuProbe>());
    else if (name == "drm_fdinfo") probes.push_back(std::make_unique<DrmFdinfoProbe>(config.nvml.process_interval));
  }
  return probes;
}

}  // namespace tierscope
