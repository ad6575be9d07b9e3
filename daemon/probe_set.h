#pragma once
// The probes the daemon knows, in the order they run, and how the config turns
// them into probe objects. Adding a probe: one file in probes/, one name here,
// one line in make_probes(), one key in config/tierscope.yaml.

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "probes/probe.h"

namespace tierscope {

struct Config;

// The workload probe runs before the GPU probes, which export per-process
// series for the processes it found.
inline constexpr std::array<std::string_view, 10> kProbeNames{
    "meminfo", "vmstat", "pressure", "swaps", "diskstats", "nvme", "workload", "gpu_nvml", "gpu_amdgpu", "drm_fdinfo"};

// The enabled probes. Throws std::regex_error on a bad device regex (the config
// parser has already rejected those).
std::vector<std::unique_ptr<Probe>> make_probes(const Config& config);

}  // namespace tierscope
