#include <gtest/gtest.h>

#include "core/metric_writer.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "probes/snapshot.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;

TEST(NvmeNames, NamespaceToBlockDevice) {
  EXPECT_EQ(nvme_namespace_block_device("nvme0n1"), "nvme0n1");
  EXPECT_EQ(nvme_namespace_block_device("nvme12n3"), "nvme12n3");
  EXPECT_EQ(nvme_namespace_block_device("nvme0c1n2"), "nvme0n2");  // native multipath path device
  for (auto bad : {"nvme0", "nvme0n", "nvme0n1p1", "nvmen1", "nvme0c1", "nvme0x1", "sda", "", "nvme0n1 "})
    EXPECT_FALSE(nvme_namespace_block_device(bad)) << bad;
  EXPECT_TRUE(is_nvme_controller_name("nvme0"));
  EXPECT_TRUE(is_nvme_controller_name("nvme17"));
  EXPECT_FALSE(is_nvme_controller_name("nvme0n1"));
  EXPECT_FALSE(is_nvme_controller_name("nvme"));
  EXPECT_FALSE(is_nvme_controller_name("nvme-subsys0"));
}

namespace {
// A controller directory as the kernel lays it out, with optional PCI function.
void controller(const TempDir& t, const std::string& name, const std::string& vendor, bool multipath) {
  const std::string pci = "sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0";
  const std::string dir = pci + "/nvme/" + name;
  if (!vendor.empty()) {
    t.write(pci + "/vendor", vendor + "\n");
    t.write(pci + "/device", "0x5026\n");
    t.write(pci + "/subsystem_vendor", "0x1e4b\n");
    t.symlink("../../../0000:3d:00.0", dir + "/device");
  }
  t.write(dir + "/model", "OEM AI OFFLOAD 2TB                      \n");
  t.write(dir + "/serial", "SN123  \n");
  t.write(dir + "/firmware_rev", "FW1.0   \n");
  t.write(dir + "/state", "live\n");
  t.write(dir + "/transport", "pcie\n");
  const std::string ns = multipath ? "nvme0c0n1" : "nvme0n1";
  t.write(dir + "/" + ns + "/size", "2048\n");
  t.write(dir + "/power/control", "auto\n");  // not a namespace
  t.symlink("../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/" + name, "sys/class/nvme/" + name);
}
}  // namespace

TEST(NvmeProbe, ReadsIdentityPciVendorAndNamespaces) {
  TempDir t;
  controller(t, "nvme0", "0x1987", false);
  ProbeRig rig(t.roots());
  NvmeProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kNvme));
  ASSERT_EQ(rig.snap.get(kNvme)->controllers.size(), 1u);
  const auto& c = rig.snap.get(kNvme)->controllers[0];
  EXPECT_EQ(c.name, "nvme0");
  EXPECT_EQ(c.model, "OEM AI OFFLOAD 2TB");  // padding trimmed
  EXPECT_EQ(c.serial, "SN123");
  EXPECT_EQ(c.firmware, "FW1.0");
  EXPECT_EQ(c.state, "live");
  EXPECT_EQ(c.pci_vendor, 0x1987u);
  EXPECT_EQ(c.pci_subsystem_vendor, 0x1e4bu);
  ASSERT_EQ(c.namespaces.size(), 1u);
  EXPECT_EQ(c.namespaces[0].block_device, "nvme0n1");
  EXPECT_EQ(c.namespaces[0].size_bytes, 2048u * 512);
  EXPECT_FALSE(c.admin);  // no admin channel plugged in: no Identify, no health log
  EXPECT_FALSE(c.identify);
  EXPECT_FALSE(c.health);
}

TEST(NvmeProbe, FabricsControllerHasNoPciIdentityAndMultipathMapsToHead) {
  TempDir t;
  controller(t, "nvme0", "", true);
  ProbeRig rig(t.roots());
  NvmeProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  const auto& c = rig.snap.get(kNvme)->controllers[0];
  EXPECT_FALSE(c.pci_vendor);
  ASSERT_EQ(c.namespaces.size(), 1u);
  EXPECT_EQ(c.namespaces[0].name, "nvme0c0n1");
  EXPECT_EQ(c.namespaces[0].block_device, "nvme0n1");

  OffloadVerdict v = decide_offload(&*rig.snap.get(kNvme), nullptr, OffloadSelection{});
  MetricWriter w;
  render_nvme(*rig.snap.get(kNvme), v, w);
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams[0].name, "tierscope_nvme_info");
  for (const auto& l : fams[0].metric[0].label) {
    if (l.name == "pci_vendor") {
      EXPECT_EQ(l.value, "");  // unknown, not "0x0000"
    }
    if (l.name == "phison") {
      EXPECT_EQ(l.value, "false");
    }
  }
}

TEST(NvmeProbe, NoNvmeClassIsNoData) {
  TempDir t;
  t.write("sys/class/block/.keep", "");
  ProbeRig rig(t.roots());
  NvmeProbe probe;
  EXPECT_EQ(rig.run(probe).status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kNvme));
}
