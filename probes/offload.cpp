#include "probes/offload.h"

#include <algorithm>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/nvme.h"
#include "probes/registry.h"
#include "probes/sampler_config.h"
#include "probes/swaps.h"

namespace tierscope {

namespace {
template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

OffloadVerdict decide_offload(const NvmeInventory* nvme, const Swaps* swaps, const OffloadSelection& sel) {
  OffloadVerdict v;
  std::vector<std::string> matched_names;
  auto add = [&](const std::string& device, const std::string& controller, const char* role) {
    for (const auto& d : v.devices)
      if (d.device == device && d.controller == controller && d.role == role) return;
    v.devices.push_back({device, controller, role});
  };
  std::vector<std::string> swap_disks;
  if (swaps)
    for (const auto& a : swaps->areas)
      for (const auto& d : a.disks) swap_disks.push_back(d);

  if (nvme) {
    for (const auto& c : nvme->controllers) {
      // What the hardware says, and only that: the PCI vendor or subsystem
      // vendor is Phison's. A device chosen in the config is role
      // "configured" below, never phison.
      bool vendor_phison = (c.pci_vendor && *c.pci_vendor == kPhisonPciVendor) ||
                           (c.pci_subsystem_vendor && *c.pci_subsystem_vendor == kPhisonPciVendor);
      bool named_controller = contains(sel.names, c.name) || (c.serial && contains(sel.names, *c.serial));
      if (named_controller) matched_names.push_back(contains(sel.names, c.name) ? c.name : *c.serial);
      bool any_namespace_named = false;
      for (const auto& ns : c.namespaces) {
        bool named_ns = contains(sel.names, ns.block_device);
        if (named_ns) matched_names.push_back(ns.block_device);
        any_namespace_named = any_namespace_named || named_ns;
        if (sel.auto_detect && vendor_phison) add(ns.block_device, c.name, "phison");
        if (named_controller || named_ns) add(ns.block_device, c.name, "configured");
        if (contains(swap_disks, ns.block_device)) add(ns.block_device, c.name, "swap");
      }
      if (vendor_phison) v.phison_controllers.push_back(c.name);
    }
  }
  for (const auto& n : sel.names)
    if (!contains(matched_names, n)) v.unmatched_names.push_back(n);
  return v;
}

void render_offload(const OffloadVerdict& verdict, MetricWriter& w) {
  for (const auto& d : verdict.devices)
    w.add(metric::offload_device_info, 1, {{"device", d.device}, {"controller", d.controller}, {"role", d.role}});
}

namespace {

class OffloadStep final : public PostSampleStep {
 public:
  void configure(const SamplerConfig& config) override { selection_ = config.section<OffloadSelection>(); }
  void run(Snapshot& snap, Logger& log) override {
    const auto& verdict = snap.put(kOffload, decide_offload(snap.get(kNvme), snap.get(kSwaps), selection_));
    if (verdict.unmatched_names != last_unmatched_) {
      for (const auto& n : verdict.unmatched_names)
        log.warn("offload_device: \"" + n + "\" matches no NVMe controller, namespace or serial");
      last_unmatched_ = verdict.unmatched_names;
    }
  }

 private:
  OffloadSelection selection_;
  std::vector<std::string> last_unmatched_;
};

void parse_offload_section(const YamlReader& p, const YAML::Node& v, const std::string& key, ProbeSettings& out) {
  const std::string expected =
      "\"auto\" or a list of controller names, block devices or serials (e.g. [nvme0, S4EWNX0R123456])";
  OffloadSelection sel;
  sel.auto_detect = false;
  auto take = [&](const YAML::Node& n) {
    auto s = std::string(text::trim(p.scalar(n, key, expected)));
    if (s.empty()) p.fail(n.Mark(), key, "expected " + expected + ", got an empty name");
    if (s == "auto") sel.auto_detect = true;
    else sel.names.push_back(s);
  };
  if (v.IsSequence()) {
    if (v.size() == 0) p.fail(v.Mark(), key, "expected " + expected + ", got an empty list");
    for (const auto& n : v) take(n);
  } else {
    take(v);
  }
  out.set(std::move(sel));
}

constexpr ConfigSection kOffloadSection{"offload_device", parse_offload_section};

}  // namespace

constinit const PostSampleRegistration kOffloadStep{
    .name = "offload",
    .section = &kOffloadSection,
    .make = []() -> std::unique_ptr<PostSampleStep> { return std::make_unique<OffloadStep>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* v = snap.get(kOffload)) render_offload(*v, w);
        },
};

}  // namespace tierscope
