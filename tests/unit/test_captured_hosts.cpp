// Cross-check on two real hosts captured by the Prometheus project
// (../shared/fixtures/captured-hosts.tar.gz, see its README): a second,
// independent source of truth beside the project's own fixtures. Expected
// values are read off the captured files. Skips (exit 77) when the tarball is
// not beside the checkout, as in a user's clone.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "probes/sampler.h"
#include "test_util.h"

using namespace tierscope;
namespace fs = std::filesystem;

namespace {

fs::path g_root;  // unpacked tree

std::shared_ptr<const Snapshot> sample(const char* host) {
  return tierscope::testing::sample_twice({g_root / host / "proc", g_root / host / "sys", g_root / host / "dev"});
}
const ProbeRun& run_of(const Snapshot& s, std::string_view probe) {
  for (const auto& r : s.probes)
    if (r.probe == probe) return r;
  throw std::runtime_error("no such probe");
}
const DiskStat* disk(const Snapshot& s, std::string_view name) {
  for (const auto& d : s.get(kDiskstats)->devices)
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace

TEST(NodeExporterHost, MeminfoAndVmstat) {
  auto s = sample("node_exporter-host");
  ASSERT_TRUE(s->get(kMeminfo));
  EXPECT_EQ(s->get(kMeminfo)->get("MemTotal"), 3742148ull * 1024);
  EXPECT_EQ(s->get(kMeminfo)->get("SwapTotal"), 4194300ull * 1024);
  EXPECT_EQ(s->get(kMeminfo)->get("HugePages_Total"), 0u);
  EXPECT_FALSE(s->get(kMeminfo)->get("MemAvailable"));  // an old kernel: no MemAvailable line
  ASSERT_TRUE(s->get(kVmstat));
  EXPECT_EQ(s->get(kVmstat)->pgpgin, 7344136u);
  EXPECT_EQ(s->get(kVmstat)->pgpgout, 1541180581u);
  EXPECT_EQ(s->get(kVmstat)->pswpin, 1476u);
  EXPECT_EQ(s->get(kVmstat)->pswpout, 35045u);
  EXPECT_EQ(s->get(kVmstat)->pgmajfault, 507162u);
  EXPECT_EQ(s->get(kVmstat)->oom_kill, 0u);
}

TEST(NodeExporterHost, PressureWithIrqFileLackingFinalNewline) {
  auto s = sample("node_exporter-host");
  ASSERT_TRUE(s->get(kPressure));
  ASSERT_EQ(s->get(kPressure)->resources.size(), 4u);
  EXPECT_EQ(s->get(kPressure)->resources[0].some->total_us, 14036781u);
  EXPECT_EQ(s->get(kPressure)->resources[0].full->total_us, 0u);
  EXPECT_EQ(s->get(kPressure)->resources[2].resource, "io");
  EXPECT_EQ(s->get(kPressure)->resources[2].some->total_us, 159886802u);
  EXPECT_EQ(s->get(kPressure)->resources[2].full->total_us, 159229614u);
  EXPECT_FALSE(s->get(kPressure)->resources[3].some);
  EXPECT_EQ(s->get(kPressure)->resources[3].full->total_us, 8494u);
}

TEST(NodeExporterHost, ZramSwap) {
  auto s = sample("node_exporter-host");
  ASSERT_TRUE(s->get(kSwaps));
  ASSERT_EQ(s->get(kSwaps)->areas.size(), 1u);
  const auto& z = s->get(kSwaps)->areas[0];
  EXPECT_EQ(z.filename, "/dev/zram0");
  EXPECT_EQ(z.size_bytes, 8388604ull * 1024);
  EXPECT_EQ(z.used_bytes, 76ull * 1024);
  EXPECT_EQ(z.priority, 100);
  EXPECT_EQ(z.block_device, "zram0");
  EXPECT_TRUE(z.disks.empty());  // this capture has no sysfs entry for zram0
}

TEST(NodeExporterHost, DiskstatsOfMixedKernelFormats) {
  auto s = sample("node_exporter-host");
  ASSERT_TRUE(s->get(kDiskstats));
  std::vector<std::string> names;
  for (const auto& d : s->get(kDiskstats)->devices) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"sda", "dm-0", "dm-1", "dm-2", "dm-3", "dm-4", "dm-5", "mmcblk0", "vda",
                                             "nvme0n1", "sdb", "sdc"}));
  EXPECT_EQ(disk(*s, "sda")->field_count, 11u);
  EXPECT_EQ(disk(*s, "sda")->get(DiskStat::reads_completed), 25354637u);
  EXPECT_EQ(disk(*s, "sda")->get(DiskStat::weighted_io_ms), 82621804u);
  EXPECT_EQ(disk(*s, "sdb")->field_count, 15u);
  EXPECT_EQ(disk(*s, "sdb")->get(DiskStat::sectors_discarded), 1925173784u);
  EXPECT_FALSE(disk(*s, "sdb")->get(DiskStat::flushes_completed));
  EXPECT_EQ(disk(*s, "sdc")->field_count, 17u);
  EXPECT_EQ(disk(*s, "sdc")->get(DiskStat::flushes_completed), 1555u);
  EXPECT_EQ(disk(*s, "sdc")->get(DiskStat::flush_ms), 1944u);
  EXPECT_EQ(disk(*s, "nvme0n1")->get(DiskStat::sectors_written), 39451633u);
}

TEST(NodeExporterHost, NvmeWithoutPciLinkIsNotPhison) {
  auto s = sample("node_exporter-host");
  ASSERT_TRUE(s->get(kNvme));
  ASSERT_EQ(s->get(kNvme)->controllers.size(), 1u);
  const auto& c = s->get(kNvme)->controllers[0];
  EXPECT_EQ(c.model, "Samsung SSD 970 PRO 512GB");
  EXPECT_EQ(c.serial, "S680HF8N190894I");
  EXPECT_EQ(c.firmware, "1B2QEXP7");
  EXPECT_EQ(c.state, "live");
  EXPECT_FALSE(c.pci_vendor);
  ASSERT_EQ(c.namespaces.size(), 1u);
  EXPECT_EQ(c.namespaces[0].block_device, "nvme0n1");
  EXPECT_EQ(c.namespaces[0].size_bytes, 3906250000ull * 512);
  EXPECT_TRUE(s->get(kOffload)->phison_controllers.empty());
  EXPECT_TRUE(s->get(kOffload)->devices.empty());
}

TEST(ProcfsHost, SwapOnDeviceMapperResolvesToItsDisks) {
  auto s = sample("procfs-host");
  ASSERT_TRUE(s->get(kSwaps));
  ASSERT_EQ(s->get(kSwaps)->areas.size(), 1u);
  const auto& a = s->get(kSwaps)->areas[0];
  EXPECT_EQ(a.filename, "/dev/dm-2");
  EXPECT_EQ(a.size_bytes, 131068ull * 1024);
  EXPECT_EQ(a.used_bytes, 176ull * 1024);
  EXPECT_EQ(a.priority, -2);
  EXPECT_EQ(a.block_device, "dm-2");
  EXPECT_EQ(a.disks, (std::vector<std::string>{"sdd", "sde"}));
}

TEST(ProcfsHost, MissingVmstatFailsOnlyThatProbe) {
  auto s = sample("procfs-host");
  EXPECT_EQ(run_of(*s, "vmstat").status, ProbeStatus::error);
  EXPECT_NE(run_of(*s, "vmstat").error.find("vmstat: No such file or directory"), std::string::npos);
  EXPECT_EQ(run_of(*s, "meminfo").status, ProbeStatus::ok);
  EXPECT_EQ(s->get(kMeminfo)->get("MemTotal"), 15666184ull * 1024);
  EXPECT_EQ(s->get(kMeminfo)->get("Zswapped"), 10502ull * 1024);
}

TEST(ProcfsHost, PressureOnAKernelWithoutCpuFull) {
  auto s = sample("procfs-host");
  ASSERT_TRUE(s->get(kPressure));
  ASSERT_EQ(s->get(kPressure)->resources.size(), 3u);  // no irq file
  EXPECT_EQ(s->get(kPressure)->resources[0].resource, "cpu");
  EXPECT_EQ(s->get(kPressure)->resources[0].some->total_us, 15u);
  EXPECT_FALSE(s->get(kPressure)->resources[0].full);
  EXPECT_EQ(s->get(kPressure)->resources[1].full->total_us, 25u);
}

TEST(ProcfsHost, NvmeModelPaddingIsTrimmed) {
  auto s = sample("procfs-host");
  ASSERT_TRUE(s->get(kNvme));
  EXPECT_EQ(s->get(kNvme)->controllers[0].model, "Samsung SSD 970 PRO 512GB");
  EXPECT_EQ(s->get(kNvme)->controllers[0].namespaces[0].name, "nvme0n0");
}

TEST(ProcfsHost, AmdgpuCardAndTheI915CardSkipped) {
  auto s = sample("procfs-host");
  ASSERT_TRUE(s->get(kGpuAmdgpu));
  ASSERT_EQ(s->get(kGpuAmdgpu)->gpus.size(), 1u);  // card1 is i915
  const auto& g = s->get(kGpuAmdgpu)->gpus[0];
  EXPECT_EQ(g.id, "card0");
  EXPECT_EQ(g.vendor, "amd");
  EXPECT_EQ(g.memory_model, "discrete");
  EXPECT_FALSE(g.power_includes_cpu);
  EXPECT_EQ(g.pci_bus_id, "0000:09:00.0");  // from PCI_SLOT_NAME: the capture copied device/ as a directory
  EXPECT_EQ(g.name, "AMD GPU 0x687f");      // product_name is empty there
  EXPECT_EQ(g.uuid, "0123456789abcdef");
  EXPECT_FALSE(g.driver_version);
  EXPECT_EQ(g.vram_total_bytes, 8573157376u);
  EXPECT_EQ(g.vram_used_bytes, 1490378752u);
  EXPECT_EQ(g.visible_vram_total_bytes, 8573157376u);
  EXPECT_EQ(g.visible_vram_used_bytes, 1490378752u);
  EXPECT_EQ(g.gtt_total_bytes, 8573157376u);
  EXPECT_EQ(g.gtt_used_bytes, 144560128u);
  EXPECT_EQ(g.utilization_ratio, 0.04);
  EXPECT_FALSE(g.memory_utilization_ratio);
  EXPECT_EQ(g.graphics_clock_hz, 852e6);
  EXPECT_EQ(g.memory_clock_hz, 167e6);
  EXPECT_FALSE(g.power_watts);  // no hwmon in the capture: absent, not 0
  EXPECT_FALSE(g.energy_joules);
  EXPECT_TRUE(g.temperatures.empty());
}

TEST(NodeExporterHost, NoAmdGpu) {
  auto s = sample("node_exporter-host");
  EXPECT_FALSE(s->get(kGpuAmdgpu));
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const fs::path tarball = TIERSCOPE_CAPTURED_TARBALL;
  if (!fs::exists(tarball)) {
    std::printf("SKIP: %s not found (it lives beside the checkout in ../shared; a user's clone has none)\n",
                tarball.c_str());
    return 77;
  }
  tierscope::testing::TempDir dir;
  g_root = dir.path();
  std::string cmd = "tar -xzf '" + tarball.string() + "' -C '" + g_root.string() + "'";
  if (std::system(cmd.c_str()) != 0) {
    std::printf("cannot unpack %s\n", tarball.c_str());
    return 1;
  }
  return RUN_ALL_TESTS();
}
