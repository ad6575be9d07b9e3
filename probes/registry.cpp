#include "probes/registry.h"

#include <algorithm>
#include <stdexcept>

#include "probes/diskstats.h"
#include "probes/drm_fdinfo.h"
#include "probes/gpu_amdgpu.h"
#include "probes/gpu_nvml.h"
#include "probes/meminfo.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/peaks.h"
#include "probes/power.h"
#include "probes/pressure.h"
#include "probes/swaps.h"
#include "probes/vmstat.h"
#include "probes/workload.h"
#include "probes/workload_memory.h"

namespace tierscope {

namespace {

// Every probe. The order is the tie-break of run_order() and the order of
// `probes:` in messages; dependencies come from each entry's `after`.
constexpr const ProbeRegistration* kProbes[] = {
    &kMeminfoProbe, &kVmstatProbe,   &kPressureProbe, &kSwapsProbe,     &kDiskstatsProbe,
    &kNvmeProbe,    &kWorkloadProbe, &kGpuNvmlProbe,  &kGpuAmdgpuProbe, &kDrmFdinfoProbe,
    &kWorkloadMemoryProbe, &kPowerProbe,
};

// The post-sample steps, in the order they run: the offload verdict (nvme and
// swaps readings), the peaks (diskstats and vmstat history), and the log of
// NVMe admin-read problems, and of unreadable RAPL energy counters.
constexpr const PostSampleRegistration* kPostSampleSteps[] = {&kOffloadStep, &kPeaksStep, &kNvmeAdminLogStep,
                                                              &kPowerLogStep};

}  // namespace

const ProbeRegistry& ProbeRegistry::builtin() {
  static const ProbeRegistry registry{{std::begin(kProbes), std::end(kProbes)},
                                      {std::begin(kPostSampleSteps), std::end(kPostSampleSteps)}};
  return registry;
}

std::vector<const ConfigSection*> ProbeRegistry::sections() const {
  std::vector<const ConfigSection*> out;
  auto add = [&](const ConfigSection* s) {
    if (s && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const auto* p : probes) add(p->section);
  for (const auto* s : steps) add(s->section);
  return out;
}

const ProbeRegistration* ProbeRegistry::find(std::string_view name) const {
  for (const auto* p : probes)
    if (p->name == name) return p;
  return nullptr;
}

std::vector<const ProbeRegistration*> run_order(std::vector<const ProbeRegistration*> probes) {
  std::vector<const ProbeRegistration*> ordered;
  ordered.reserve(probes.size());
  auto waits_for = [&](const ProbeRegistration* p) {
    // True while one of p's dependencies is still to run.
    return std::any_of(p->after.begin(), p->after.end(), [&](std::string_view dep) {
      return std::any_of(probes.begin(), probes.end(), [&](const ProbeRegistration* q) { return q->name == dep; });
    });
  };
  while (!probes.empty()) {
    auto next = std::find_if(probes.begin(), probes.end(), [&](const ProbeRegistration* p) { return !waits_for(p); });
    if (next == probes.end()) {
      std::string cycle;
      for (const auto* p : probes) cycle += (cycle.empty() ? "" : ", ") + std::string(p->name);
      throw std::logic_error("probe dependency cycle among: " + cycle);
    }
    ordered.push_back(*next);
    probes.erase(next);
  }
  return ordered;
}

}  // namespace tierscope
