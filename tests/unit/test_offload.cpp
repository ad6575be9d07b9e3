#include <gtest/gtest.h>

#include <algorithm>

#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/swaps.h"

using namespace tierscope;

namespace {
NvmeController ctrl(std::string name, std::optional<std::uint32_t> vendor, std::string serial,
                    std::vector<std::string> namespaces) {
  NvmeController c;
  c.name = std::move(name);
  c.pci_vendor = vendor;
  c.serial = std::move(serial);
  for (auto& n : namespaces) c.namespaces.push_back({n, n, std::nullopt});
  return c;
}
std::vector<std::string> rows(const OffloadVerdict& v) {
  std::vector<std::string> out;
  for (const auto& d : v.devices) out.push_back(d.device + "/" + d.controller + "/" + d.role);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST(Offload, AutoDetectsByPciVendorWhateverTheModelString) {
  NvmeInventory inv;
  inv.controllers = {ctrl("nvme0", 0x1987, "P1", {"nvme0n1", "nvme0n2"}), ctrl("nvme1", 0x144d, "S1", {"nvme1n1"}),
                     ctrl("nvme2", std::nullopt, "F1", {"nvme2n1"})};
  auto v = decide_offload(&inv, nullptr, OffloadSelection{});
  EXPECT_EQ(v.phison_controllers, std::vector<std::string>{"nvme0"});
  EXPECT_EQ(rows(v), (std::vector<std::string>{"nvme0n1/nvme0/phison", "nvme0n2/nvme0/phison"}));
  EXPECT_TRUE(v.unmatched_names.empty());
}

TEST(Offload, ConfiguredNamesMatchControllerNamespaceOrSerial) {
  NvmeInventory inv;
  inv.controllers = {ctrl("nvme0", 0x1987, "P1", {"nvme0n1"}), ctrl("nvme1", 0x144d, "S1", {"nvme1n1", "nvme1n2"}),
                     ctrl("nvme2", 0x144d, "S2", {"nvme2n1"}), ctrl("nvme3", 0x8086, "I1", {"nvme3n1"})};
  OffloadSelection sel;
  sel.auto_detect = false;
  sel.names = {"nvme1n2", "S2", "nvme3", "nvme9"};
  auto v = decide_offload(&inv, nullptr, sel);
  // Without "auto" the Phison drive is not an offload device, but still flagged phison by vendor;
  // the configured drives are role "configured" and not flagged phison: their vendors are not 0x1987.
  EXPECT_EQ(rows(v), (std::vector<std::string>{"nvme1n2/nvme1/configured", "nvme2n1/nvme2/configured",
                                               "nvme3n1/nvme3/configured"}));
  EXPECT_EQ(v.phison_controllers, std::vector<std::string>{"nvme0"});
  EXPECT_EQ(v.unmatched_names, std::vector<std::string>{"nvme9"});
}

TEST(Offload, PhisonBySubsystemVendorAlone) {
  NvmeInventory inv;
  inv.controllers = {ctrl("nvme0", 0x1e4b, "O1", {"nvme0n1"}), ctrl("nvme1", 0x144d, "S1", {"nvme1n1"}),
                     ctrl("nvme2", std::nullopt, "Q1", {"nvme2n1"})};
  inv.controllers[0].pci_subsystem_vendor = 0x1987;  // an OEM board: Phison only as the subsystem vendor
  inv.controllers[1].pci_subsystem_vendor = 0x144d;
  auto v = decide_offload(&inv, nullptr, OffloadSelection{true, {"nvme2"}});
  EXPECT_EQ(v.phison_controllers, std::vector<std::string>{"nvme0"});
  EXPECT_EQ(rows(v), (std::vector<std::string>{"nvme0n1/nvme0/phison", "nvme2n1/nvme2/configured"}));
}

TEST(Offload, SwapOnAnNvmeNamespaceAddsTheSwapRole) {
  NvmeInventory inv;
  inv.controllers = {ctrl("nvme0", 0x1987, "P1", {"nvme0n1"}), ctrl("nvme1", 0x144d, "S1", {"nvme1n1"})};
  Swaps swaps;
  SwapArea a;
  a.filename = "/dev/nvme0n1p3";
  a.disks = {"nvme0n1"};
  SwapArea b;
  b.filename = "/srv/swapfile";
  b.disks = {"nvme1n1"};
  SwapArea z;
  z.filename = "/dev/zram0";
  z.disks = {"zram0"};
  swaps.areas = {a, b, z};
  auto v = decide_offload(&inv, &swaps, OffloadSelection{});
  EXPECT_EQ(rows(v), (std::vector<std::string>{"nvme0n1/nvme0/phison", "nvme0n1/nvme0/swap", "nvme1n1/nvme1/swap"}));
}

TEST(Offload, NothingToDecideWithoutNvme) {
  OffloadSelection sel;
  sel.names = {"nvme0"};
  auto v = decide_offload(nullptr, nullptr, sel);
  EXPECT_TRUE(v.devices.empty());
  EXPECT_EQ(v.unmatched_names, std::vector<std::string>{"nvme0"});
}
