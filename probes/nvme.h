#pragma once
// NVMe controllers and namespaces from sysfs (/sys/class/nvme), with the PCI
// identity behind each controller's `device` link. This is the part that
// needs no privilege. The SMART/health log comes through libnvme ioctls
// (issue "systemd integration and NVMe health"): NvmeHealthReader is the seam
// where that reader plugs in; without one, the health series are absent.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"

namespace tierscope {

class MetricWriter;
struct OffloadVerdict;

inline constexpr std::uint32_t kPhisonPciVendor = 0x1987;

struct NvmeNamespace {
  std::string name;          // sysfs directory: nvme0n1, or nvme0c0n1 under native multipath
  std::string block_device;  // the block device that serves it: nvme0n1
  std::optional<std::uint64_t> size_bytes;  // `size` (512-byte sectors) x 512
};

// Health log page (NVMe base spec, Log Identifier 02h). Filled by a reader
// plugged into the probe; every field optional because a reader may fail.
struct NvmeHealth {
  std::optional<std::uint8_t> critical_warning;
  std::optional<double> temperature_celsius;
  std::optional<double> percentage_used;  // 0..255 %, as the drive reports
  std::optional<double> data_units_read, data_units_written;  // units of 1000 x 512 bytes
  std::optional<double> host_read_commands, host_write_commands;
  std::optional<double> power_on_hours, unsafe_shutdowns, media_errors;
};

struct NvmeController {
  std::string name;  // nvme0
  std::optional<std::string> model, serial, firmware, state, transport, address;
  std::optional<std::uint32_t> pci_vendor, pci_device, pci_subsystem_vendor;
  std::vector<NvmeNamespace> namespaces;
  std::optional<NvmeHealth> health;
};

struct NvmeInventory {
  std::vector<NvmeController> controllers;
};

// "nvme0c1n2" -> "nvme0n2"; "nvme0n1" -> "nvme0n1"; nullopt for anything that
// is not a namespace name.
std::optional<std::string> nvme_namespace_block_device(std::string_view name);
bool is_nvme_controller_name(std::string_view name);

class NvmeHealthReader {
 public:
  virtual ~NvmeHealthReader() = default;
  virtual std::optional<NvmeHealth> read(const HostRoots& roots, const NvmeController& controller) = 0;
};

class NvmeProbe final : public Probe {
 public:
  explicit NvmeProbe(std::shared_ptr<NvmeHealthReader> health = nullptr) : health_(std::move(health)) {}
  std::string_view name() const override { return "nvme"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

 private:
  std::shared_ptr<NvmeHealthReader> health_;
};

// Identity, state and namespaces; the phison label comes from the verdict.
void render_nvme(const NvmeInventory& inv, const OffloadVerdict& verdict, MetricWriter& w);

}  // namespace tierscope
