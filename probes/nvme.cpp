#include "probes/nvme.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "exporters/metric_catalog.h"
#include "probes/offload.h"
#include "probes/snapshot.h"
#include "probes/sysfs.h"
#include "probes/text.h"

namespace fs = std::filesystem;

namespace tierscope {

namespace {
// Reads "nvme<digits>" at the front of s; returns the digits or empty.
std::string_view take_number(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  auto digits = s.substr(0, n);
  s.remove_prefix(n);
  return digits;
}
}  // namespace

bool is_nvme_controller_name(std::string_view name) {
  if (name.substr(0, 4) != "nvme") return false;
  name.remove_prefix(4);
  return !take_number(name).empty() && name.empty();
}

std::optional<std::string> nvme_namespace_block_device(std::string_view name) {
  if (name.substr(0, 4) != "nvme") return std::nullopt;
  std::string_view rest = name.substr(4);
  auto subsys = take_number(rest);
  if (subsys.empty() || rest.empty()) return std::nullopt;
  if (rest.front() == 'c') {  // hidden per-path device of native multipath
    rest.remove_prefix(1);
    if (take_number(rest).empty()) return std::nullopt;
  }
  if (rest.empty() || rest.front() != 'n') return std::nullopt;
  rest.remove_prefix(1);
  auto nsid = take_number(rest);
  if (nsid.empty() || !rest.empty()) return std::nullopt;
  return "nvme" + std::string(subsys) + "n" + std::string(nsid);
}

ProbeOutcome NvmeProbe::sample(ProbeContext& ctx, Snapshot& out) {
  const fs::path cls = ctx.roots.sys("class/nvme");
  std::error_code ec;
  if (!fs::is_directory(cls, ec)) return ProbeOutcome::no_data();
  NvmeInventory inv;
  auto attr = [&](const fs::path& p) { return sysfs::read_attribute(ctx.files, p, ctx.scratch); };
  auto hex = [&](const fs::path& p) -> std::optional<std::uint32_t> {
    auto s = attr(p);
    if (!s) return std::nullopt;
    auto v = text::parse_hex(*s);
    if (!v || *v > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
  };
  for (const auto& name : sysfs::list_dir(cls)) {
    if (!is_nvme_controller_name(name)) continue;
    const fs::path dir = cls / name;
    NvmeController c;
    c.name = name;
    c.model = attr(dir / "model");
    c.serial = attr(dir / "serial");
    c.firmware = attr(dir / "firmware_rev");
    c.state = attr(dir / "state");
    c.transport = attr(dir / "transport");
    c.address = attr(dir / "address");
    // The PCI function behind the controller; absent for fabrics controllers.
    c.pci_vendor = hex(dir / "device/vendor");
    c.pci_device = hex(dir / "device/device");
    c.pci_subsystem_vendor = hex(dir / "device/subsystem_vendor");
    for (const auto& entry : sysfs::list_dir(dir)) {
      auto block = nvme_namespace_block_device(entry);
      if (!block) continue;
      NvmeNamespace ns;
      ns.name = entry;
      ns.block_device = *block;
      if (auto size = attr(dir / entry / "size")) {
        auto sectors = text::parse_u64(*size);
        if (sectors && *sectors <= std::numeric_limits<std::uint64_t>::max() / 512) ns.size_bytes = *sectors * 512;
      }
      c.namespaces.push_back(std::move(ns));
    }
    if (health_) c.health = health_->read(ctx.roots, c);
    inv.controllers.push_back(std::move(c));
  }
  if (inv.controllers.empty()) return ProbeOutcome::no_data();
  out.nvme = std::move(inv);
  return ProbeOutcome::ok();
}

namespace {
std::string hex16(const std::optional<std::uint32_t>& v) {
  if (!v) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", *v);
  return buf;
}
}  // namespace

void render_nvme(const NvmeInventory& inv, const OffloadVerdict& verdict, MetricWriter& w) {
  for (const auto& c : inv.controllers) {
    bool phison = std::find(verdict.phison_controllers.begin(), verdict.phison_controllers.end(), c.name) !=
                  verdict.phison_controllers.end();
    w.add(metric::nvme_info, 1,
          {{"controller", c.name},
           {"model", c.model.value_or("")},
           {"serial", c.serial.value_or("")},
           {"firmware", c.firmware.value_or("")},
           {"transport", c.transport.value_or("")},
           {"pci_vendor", hex16(c.pci_vendor)},
           {"pci_subsystem_vendor", hex16(c.pci_subsystem_vendor)},
           {"phison", phison ? "true" : "false"}});
    if (c.state) w.add(metric::nvme_state, 1, {{"controller", c.name}, {"state", *c.state}});
    for (const auto& ns : c.namespaces) {
      w.add(metric::nvme_namespace_info, 1,
            {{"controller", c.name}, {"namespace", ns.name}, {"device", ns.block_device}});
      if (ns.size_bytes)
        w.add(metric::nvme_namespace_capacity, static_cast<double>(*ns.size_bytes),
              {{"controller", c.name}, {"device", ns.block_device}});
    }
  }
}

}  // namespace tierscope
