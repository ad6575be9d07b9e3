#pragma once
// NVIDIA GPUs through NVML, loaded at run time with dlopen (no NVIDIA headers
// or CUDA at build time): see probes/nvml_api.h for the declared subset.

#include <chrono>
#include <memory>
#include <string>

#include "probes/gpu.h"
#include "probes/probe.h"

namespace tierscope {

struct NvmlSettings {
  std::string library = "libnvidia-ml.so.1";            // dlopen name or path
  std::chrono::milliseconds process_interval{5000};      // cadence of the process lists
  std::string memory_model = "auto";                    // auto | unified | discrete
  // Re-initialisation after a lost GPU or a failed init: first retry after
  // retry_min, doubling up to retry_max; a host without NVIDIA driver or GPU
  // is looked at again every retry_max. Not in the config file (tests shorten it).
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{60'000};

  bool operator==(const NvmlSettings&) const = default;
};

class NvmlProbe final : public Probe {
 public:
  explicit NvmlProbe(NvmlSettings settings);
  ~NvmlProbe() override;
  std::string_view name() const override { return "gpu_nvml"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tierscope
