#pragma once
// The vendor-neutral GPU reading that every GPU probe fills (NVIDIA through
// NVML in gpu_nvml, AMD through amdgpu sysfs in gpu_amdgpu), and its
// rendering. Every field is optional: a value the driver does not report is
// absent, never 0. Units are written next to each field.
//
// Memory models:
//   discrete  VRAM is device memory: tier="vram" (and tier="gtt" on AMD).
//   unified   the GPU shares system RAM (DGX Spark GB10, Strix Halo APU).
//             NVIDIA: NVML reports no memory info; the GPU's allocations are
//             the sum of its process list, exported as
//             tierscope_gpu_process_memory_sum_bytes and tier="unified" (a
//             part of tier="ram", never to be added to it).
//             AMD APU: the BIOS VRAM carve-out and GTT are their own tiers,
//             never summed into one "GPU memory" figure; hwmon power
//             includes the CPU.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tierscope {

class MetricWriter;
struct ConfigSection;
struct WorkloadProcesses;

// Config section `gpu`. The NVIDIA probe reads all of it; the cadence of the
// per-process scans (process_interval) also paces the workload probe's
// rescans and the drm_fdinfo probe's fd discovery.
struct GpuSettings {
  std::string nvml_library = "libnvidia-ml.so.1";       // dlopen name or path
  std::chrono::milliseconds process_interval{5000};      // cadence of the process lists and scans
  std::string memory_model = "auto";                    // auto | unified | discrete
  // Re-initialisation after a lost GPU or a failed init: first retry after
  // retry_min, doubling up to retry_max; a host without NVIDIA driver or GPU
  // is looked at again every retry_max. Not in the config file (tests shorten it).
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{60'000};

  bool operator==(const GpuSettings&) const = default;
};
extern const ConfigSection kGpuSection;

struct GpuProcessMemory {
  std::uint32_t pid = 0;
  std::string region;        // vram | gtt | cpu | unified
  std::uint64_t bytes = 0;
};

struct GpuTemperature {
  std::string sensor;        // gpu (NVIDIA die) | edge | junction | mem (amdgpu hwmon labels)
  double celsius = 0;
};

struct GpuReading {
  std::string id;            // label gpu: "nvidia0" (NVML index), "card1" (DRM card)
  std::string vendor;        // nvidia | amd
  std::string memory_model;  // discrete | unified
  std::optional<std::string> uuid, name, pci_bus_id, driver_version, cuda_driver_version;

  std::optional<std::uint64_t> vram_total_bytes, vram_used_bytes;
  std::optional<std::uint64_t> vram_reserved_bytes;                     // NVML v2 memory info
  std::optional<std::uint64_t> visible_vram_total_bytes, visible_vram_used_bytes;  // amdgpu vis_vram
  std::optional<std::uint64_t> gtt_total_bytes, gtt_used_bytes;         // amdgpu GTT
  std::optional<std::uint64_t> process_memory_sum_bytes;                // sum over the driver's process list

  std::optional<double> utilization_ratio;          // 0..1
  std::optional<double> memory_utilization_ratio;   // 0..1 (NVML: memory controller busy)
  std::optional<double> power_watts;
  bool power_includes_cpu = false;                  // APU: hwmon reports the package
  std::optional<double> energy_joules;              // since driver load
  std::vector<GpuTemperature> temperatures;
  std::optional<double> sm_clock_hz, graphics_clock_hz, memory_clock_hz;
  std::optional<double> pcie_rx_bytes_per_second, pcie_tx_bytes_per_second;
  std::optional<std::uint64_t> throttle_reasons;    // NVML clocks-event reason bits

  std::vector<GpuProcessMemory> processes;          // every process the driver lists
};

// A driver call that failed, and how often since the daemon started.
struct GpuProbeError {
  std::string call;   // e.g. nvmlDeviceGetPowerUsage
  std::string error;  // e.g. GPU_IS_LOST
  std::uint64_t count = 0;
};

struct GpuInventory {
  std::vector<GpuReading> gpus;
  std::vector<GpuProbeError> errors;  // rendered as tierscope_gpu_probe_errors_total{vendor,...}
  std::string vendor;                 // of the probe that filled it: nvidia | amd
};

// Per-GPU series, the memory tiers, and tierscope_process_gpu_memory_bytes for
// the processes of `watched` (never for every PID).
void render_gpus(const GpuInventory& inv, const WorkloadProcesses* watched, MetricWriter& w);

}  // namespace tierscope
