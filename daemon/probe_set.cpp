#include "daemon/probe_set.h"

#include "daemon/config.h"
#include "probes/diskstats.h"
#include "probes/meminfo.h"
#include "probes/nvme.h"
#include "probes/pressure.h"
#include "probes/swaps.h"
#include "probes/vmstat.h"

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
    else if (name == "nvme") probes.push_back(std::make_unique<NvmeProbe>());
  }
  return probes;
}

}  // namespace tierscope
