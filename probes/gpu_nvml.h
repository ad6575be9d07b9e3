#pragma once
// NVIDIA GPUs through NVML, loaded at run time with dlopen (no NVIDIA headers
// or CUDA at build time): see probes/nvml_api.h for the declared subset.

#include <chrono>
#include <memory>
#include <string>

#include "probes/gpu.h"
#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

// Reads the gpu section's nvml_library, memory_model, process_interval and
// the retry cadence.
class GpuNvmlProbe final : public Probe {
 public:
  explicit GpuNvmlProbe(GpuSettings settings);
  ~GpuNvmlProbe() override;
  std::string_view name() const override { return "gpu_nvml"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// What the gpu_nvml probe puts in the snapshot.
inline constexpr ReadingKey<GpuInventory> kGpuNvml{"gpu_nvml"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kGpuNvmlProbe;

}  // namespace tierscope
