#include "probes/gpu.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/text.h"
#include "core/metric_catalog.h"
#include "probes/settings.h"
#include "probes/workload.h"

namespace tierscope {

namespace {

struct ThrottleBit {
  std::uint64_t bit;
  const char* reason;
};
// NVML clocks-event reasons (nvml.h, nvmlClocksEventReason*).
constexpr ThrottleBit kThrottleBits[] = {
    {0x1, "gpu_idle"},          {0x2, "applications_clocks_setting"}, {0x4, "sw_power_cap"},
    {0x8, "hw_slowdown"},       {0x10, "sync_boost"},                 {0x20, "sw_thermal_slowdown"},
    {0x40, "hw_thermal_slowdown"}, {0x80, "hw_power_brake_slowdown"}, {0x100, "display_clock_setting"},
};

void put(MetricWriter& w, const MetricDef& def, const std::optional<double>& v, Labels labels) {
  if (v) w.add(def, *v, std::move(labels));
}
void put(MetricWriter& w, const MetricDef& def, const std::optional<std::uint64_t>& v, Labels labels) {
  if (v) w.add(def, static_cast<double>(*v), std::move(labels));
}

}  // namespace

void render_gpus(const GpuInventory& inv, const WorkloadProcesses* watched, MetricWriter& w) {
  for (const auto& e : inv.errors)
    w.add(metric::gpu_probe_errors, static_cast<double>(e.count),
          {{"vendor", inv.vendor}, {"call", e.call}, {"error", e.error}});
  for (const auto& g : inv.gpus) {
    const Labels gpu{{"gpu", g.id}};
    w.add(metric::gpu_info, 1,
          {{"gpu", g.id},
           {"vendor", g.vendor},
           {"memory_model", g.memory_model},
           {"uuid", g.uuid.value_or("")},
           {"name", g.name.value_or("")},
           {"pci_bus_id", g.pci_bus_id.value_or("")},
           {"driver", g.driver_version.value_or("")},
           {"cuda_version", g.cuda_driver_version.value_or("")}});

    put(w, metric::memory_capacity, g.vram_total_bytes, {{"tier", "vram"}, {"device", g.id}});
    put(w, metric::memory_used, g.vram_used_bytes, {{"tier", "vram"}, {"device", g.id}});
    put(w, metric::memory_capacity, g.gtt_total_bytes, {{"tier", "gtt"}, {"device", g.id}});
    put(w, metric::memory_used, g.gtt_used_bytes, {{"tier", "gtt"}, {"device", g.id}});
    // What a unified-memory NVIDIA GPU holds is known only from its process list.
    if (g.memory_model == "unified" && g.vendor == "nvidia")
      put(w, metric::memory_used, g.process_memory_sum_bytes, {{"tier", "unified"}, {"device", g.id}});
    put(w, metric::gpu_memory_reserved, g.vram_reserved_bytes, gpu);
    put(w, metric::gpu_visible_vram_capacity, g.visible_vram_total_bytes, gpu);
    put(w, metric::gpu_visible_vram_used, g.visible_vram_used_bytes, gpu);
    put(w, metric::gpu_process_memory_sum, g.process_memory_sum_bytes, gpu);

    put(w, metric::gpu_utilization, g.utilization_ratio, gpu);
    put(w, metric::gpu_memory_utilization, g.memory_utilization_ratio, gpu);
    put(w, metric::gpu_power, g.power_watts, gpu);
    put(w, metric::gpu_energy, g.energy_joules, gpu);
    for (const auto& t : g.temperatures)
      w.add(metric::gpu_temperature, t.celsius, {{"gpu", g.id}, {"sensor", t.sensor}});
    put(w, metric::gpu_clock, g.sm_clock_hz, {{"gpu", g.id}, {"clock", "sm"}});
    put(w, metric::gpu_clock, g.graphics_clock_hz, {{"gpu", g.id}, {"clock", "graphics"}});
    put(w, metric::gpu_clock, g.memory_clock_hz, {{"gpu", g.id}, {"clock", "memory"}});
    put(w, metric::gpu_pcie_throughput, g.pcie_rx_bytes_per_second, {{"gpu", g.id}, {"direction", "rx"}});
    put(w, metric::gpu_pcie_throughput, g.pcie_tx_bytes_per_second, {{"gpu", g.id}, {"direction", "tx"}});
    if (g.throttle_reasons) {
      w.add(metric::gpu_throttle_reasons, static_cast<double>(*g.throttle_reasons), gpu);
      for (const auto& b : kThrottleBits)
        w.add(metric::gpu_throttle_active, (*g.throttle_reasons & b.bit) ? 1 : 0, {{"gpu", g.id}, {"reason", b.reason}});
    }

    if (!watched) continue;
    // The probes list each process once per region; a repeat keeps the larger.
    std::map<std::pair<std::uint32_t, std::string>, std::uint64_t> per_process;
    for (const auto& p : g.processes) {
      if (!watched->find(p.pid)) continue;
      auto& bytes = per_process[{p.pid, p.region}];
      bytes = std::max(bytes, p.bytes);
    }
    for (const auto& [key, bytes] : per_process) {
      const WatchedProcess* proc = watched->find(key.first);
      w.add(metric::process_gpu_memory, static_cast<double>(bytes),
            {{"gpu", g.id}, {"pid", std::to_string(key.first)}, {"comm", proc->comm}, {"region", key.second}});
    }
  }
}

namespace {

// The cadence bounds of the sampler: 100 ms to 10 min.
constexpr std::chrono::milliseconds kMinProcessInterval{100};
constexpr std::chrono::milliseconds kMaxProcessInterval{600'000};

void parse_gpu_section(const YamlReader& p, const YAML::Node& v, const std::string& key, ProbeSettings& out) {
  GpuSettings s = out.get<GpuSettings>();
  p.each_key(v, key, {"nvml_library", "process_interval", "memory_model"},
             [&](const std::string& k, const std::string& f, const YAML::Node& n) {
               if (k == "nvml_library") {
                 s.nvml_library = p.scalar(n, f, "a library name or path (libnvidia-ml.so.1)");
                 if (s.nvml_library.empty()) p.fail(n.Mark(), f, "expected a library name or path, got an empty string");
               } else if (k == "process_interval") {
                 s.process_interval = p.duration(n, f, kMinProcessInterval, kMaxProcessInterval);
               } else {
                 auto m = p.scalar(n, f, "auto, unified or discrete");
                 if (m != "auto" && m != "unified" && m != "discrete")
                   p.fail(n.Mark(), f, "expected auto, unified or discrete, got " + text::quoted(m));
                 s.memory_model = m;
               }
             });
  out.set(std::move(s));
}

}  // namespace

constinit const ConfigSection kGpuSection{"gpu", parse_gpu_section};

}  // namespace tierscope
