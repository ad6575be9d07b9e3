#pragma once
// AMD GPUs through amdgpu sysfs: /sys/class/drm/card*/device with DRIVER=amdgpu
// in its uevent (Documentation/gpu/amdgpu/*.rst). Fills a GpuReading per card.
//
// Read per card (bytes, percent, µW, µJ and millidegrees as the kernel writes
// them; converted to base units in the reading):
//   device/mem_info_{vram,vis_vram,gtt}_{total,used}   (driver-misc.rst)
//   device/gpu_busy_percent, device/mem_busy_percent   (amdgpu_pm.c)
//   device/pp_dpm_sclk, device/pp_dpm_mclk             (the level marked '*')
//   device/hwmon/hwmon*/power1_average|power1_input, energy1_input,
//   temp*_input + temp*_label                          (thermal.rst)
// and once per card: identity (PCI address, product_name, unique_id) and
// whether it is an APU (see amd_apu_signal).

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "probes/gpu.h"
#include "probes/hwmon.h"
#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

class GpuAmdgpuProbe final : public Probe {
 public:
  GpuAmdgpuProbe();
  ~GpuAmdgpuProbe() override;
  GpuAmdgpuProbe(const GpuAmdgpuProbe&) = delete;
  GpuAmdgpuProbe& operator=(const GpuAmdgpuProbe&) = delete;

  std::string_view name() const override { return "gpu_amdgpu"; }
  // no_data when there is no amdgpu card.
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

  struct State;  // per-card facts that do not change while the driver is bound

 private:
  std::unique_ptr<State> state_;
};

// What the gpu_amdgpu probe puts in the snapshot.
inline constexpr ReadingKey<GpuInventory> kGpuAmdgpu{"gpu_amdgpu"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kGpuAmdgpuProbe;

// ---- Pure parsers (tests/unit/test_gpu_amdgpu.cpp) ----

// A DRM card directory of /sys/class/drm: "card0", "card12"; not the
// connectors ("card0-DP-1"), render nodes ("renderD128") or "version".
bool is_drm_card_name(std::string_view name);

// The value of KEY in a uevent file ("DRIVER=amdgpu\nPCI_SLOT_NAME=…");
// nullopt when the key is absent.
std::optional<std::string_view> uevent_value(std::string_view uevent, std::string_view key);

// A PCI address as sysfs names devices: "0000:c3:00.0" (domain of 4+ hex
// digits, bus:device.function).
bool is_pci_address(std::string_view s);

// The PCI device id in a uevent PCI_ID value ("1002:744C" -> 0x744c).
std::optional<std::uint32_t> parse_pci_id_device(std::string_view pci_id);

// pp_dpm_sclk / pp_dpm_mclk: the clock of the level marked '*' ("1: 1800Mhz *"),
// in Hz. nullopt when no level is marked or the marked line is malformed.
std::optional<double> parse_pp_dpm_current_hz(std::string_view text);

// gpu_busy_percent / mem_busy_percent: "0".."100" -> 0..1.
std::optional<double> parse_busy_ratio(std::string_view text);

// The common header of device/gpu_metrics (kgd_pp_interface.h,
// struct metrics_table_header), in host byte order as the kernel writes it.
struct GpuMetricsHeader {
  std::uint16_t structure_size = 0;
  std::uint8_t format_revision = 0;
  std::uint8_t content_revision = 0;
};
std::optional<GpuMetricsHeader> parse_gpu_metrics_header(std::string_view bytes);

// An IP block version from device/ip_discovery/die/0/<IP>/0/{major,minor,revision}.
struct IpVersion {
  unsigned major = 0, minor = 0, revision = 0;
  bool operator==(const IpVersion&) const = default;
};

// GC (graphics core) versions that amdgpu flags AMD_IS_APU.
bool is_apu_gc_version(const IpVersion& gc);
// PCI device ids of AMD APUs' integrated GPUs.
bool is_known_apu_pci_device(std::uint32_t device_id);

// What sysfs tells about one card, for the APU verdict.
struct AmdApuEvidence {
  bool hwmon_vddnb = false;                      // hwmon in1_label reads "vddnb"
  std::optional<IpVersion> gc_version;           // ip_discovery GC
  std::optional<std::uint32_t> pci_device_id;    // device/device
  std::optional<GpuMetricsHeader> gpu_metrics;   // device/gpu_metrics header
};

// Which signal makes the card an APU; none: a discrete GPU.
enum class AmdApuSignal { none, hwmon_vddnb, gc_version, pci_device_id, gpu_metrics };
AmdApuSignal amd_apu_signal(const AmdApuEvidence& evidence);

}  // namespace tierscope
