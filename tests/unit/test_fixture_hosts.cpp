// The probes on the project's own fixture hosts (tests/fixtures), written from
// the kernel's documented formats. Expected values are read off the fixture
// files by hand: see tests/fixtures/README.md for what each host models.

#include <gtest/gtest.h>

#include <algorithm>

#include "probes/sampler.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::fixture_roots;

namespace {
std::shared_ptr<const Snapshot> sample(const char* host, Config c = {}) {
  return tierscope::testing::sample_twice(fixture_roots(host), std::move(c));
}
ProbeStatus status_of(const Snapshot& s, std::string_view probe) {
  for (const auto& r : s.probes)
    if (r.probe == probe) return r.status;
  ADD_FAILURE() << "probe did not run: " << probe;
  return ProbeStatus::error;
}
std::vector<std::string> offload_rows(const Snapshot& s) {
  std::vector<std::string> out;
  for (const auto& d : s.get(kOffload)->devices) out.push_back(d.device + "/" + d.controller + "/" + d.role);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST(PhisonHost, MemoryTiers) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->get(kMeminfo));
  EXPECT_EQ(s->get(kMeminfo)->fields.size(), 55u);  // every line of the file
  EXPECT_EQ(s->get(kMeminfo)->get("MemTotal"), 130023424ull * 1024);
  EXPECT_EQ(s->get(kMeminfo)->get("MemAvailable"), 10485760ull * 1024);
  EXPECT_EQ(s->get(kMeminfo)->get("DirectMap1G"), 99614720ull * 1024);
  ASSERT_TRUE(s->get(kVmstat));
  EXPECT_EQ(s->get(kVmstat)->pswpin, 262144u);
  EXPECT_EQ(s->get(kVmstat)->pswpout, 393216u);
  EXPECT_EQ(s->get(kVmstat)->pgmajfault, 1048576u);
  EXPECT_EQ(s->get(kVmstat)->oom_kill, 3u);
}

TEST(PhisonHost, PressureIncludingIrq) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->get(kPressure));
  ASSERT_EQ(s->get(kPressure)->resources.size(), 4u);
  const auto& mem = s->get(kPressure)->resources[1];
  EXPECT_EQ(mem.resource, "memory");
  EXPECT_EQ(mem.some->total_us, 123456789012u);
  EXPECT_EQ(mem.full->total_us, 98765432101u);
  const auto& irq = s->get(kPressure)->resources[3];
  EXPECT_EQ(irq.resource, "irq");
  EXPECT_FALSE(irq.some);
  EXPECT_EQ(irq.full->total_us, 4242u);
}

TEST(PhisonHost, SwapPartitionAndSwapFileResolveToThePhisonNamespaces) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->get(kSwaps));
  ASSERT_EQ(s->get(kSwaps)->areas.size(), 2u);
  const auto& part = s->get(kSwaps)->areas[0];
  EXPECT_EQ(part.filename, "/dev/nvme0n1p3");
  EXPECT_EQ(part.size_bytes, 67108860ull * 1024);
  EXPECT_EQ(part.used_bytes, 1048576ull * 1024);
  EXPECT_EQ(part.block_device, "nvme0n1p3");
  EXPECT_EQ(part.disks, std::vector<std::string>{"nvme0n1"});
  const auto& file = s->get(kSwaps)->areas[1];
  EXPECT_EQ(file.filename, "/mnt/offload/swapfile");
  EXPECT_EQ(file.type, "file");
  EXPECT_EQ(file.block_device, "nvme0n2p1");  // /mnt/offload is 259:5 in mountinfo
  EXPECT_EQ(file.disks, std::vector<std::string>{"nvme0n2"});
  // SwapTotal of meminfo is the sum of the areas.
  EXPECT_EQ(*s->get(kMeminfo)->get("SwapTotal"), part.size_bytes + file.size_bytes);
}

TEST(PhisonHost, DiskstatsKeepsWholeDisksWithAllSeventeenFields) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->get(kDiskstats));
  std::vector<std::string> names;
  for (const auto& d : s->get(kDiskstats)->devices) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"nvme0n1", "nvme0n2", "nvme1n1", "sda"}));
  const auto& n = s->get(kDiskstats)->devices[0];
  EXPECT_EQ(n.field_count, 17u);
  EXPECT_EQ(n.get(DiskStat::reads_completed), 4194304u);
  EXPECT_EQ(n.get(DiskStat::sectors_written), 536870912u);
  EXPECT_EQ(n.get(DiskStat::in_progress), 3u);
  EXPECT_EQ(n.get(DiskStat::sectors_discarded), 134217728u);
  EXPECT_EQ(n.get(DiskStat::flushes_completed), 4096u);
  EXPECT_EQ(n.get(DiskStat::flush_ms), 2048u);
}

TEST(PhisonHost, NvmeIdentityAndPhisonVerdict) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->get(kNvme));
  ASSERT_EQ(s->get(kNvme)->controllers.size(), 2u);
  const auto& p = s->get(kNvme)->controllers[0];
  EXPECT_EQ(p.name, "nvme0");
  EXPECT_EQ(p.model, "PHISON AI100E 2TB");
  EXPECT_EQ(p.serial, "511240904A12345678");
  EXPECT_EQ(p.firmware, "EFCM32.1");
  EXPECT_EQ(p.pci_vendor, 0x1987u);
  EXPECT_EQ(p.pci_subsystem_vendor, 0x1987u);
  EXPECT_EQ(p.address, "0000:02:00.0");
  ASSERT_EQ(p.namespaces.size(), 2u);
  EXPECT_EQ(p.namespaces[1].block_device, "nvme0n2");
  EXPECT_EQ(p.namespaces[1].size_bytes, 781250000ull * 512);
  const auto& sam = s->get(kNvme)->controllers[1];
  EXPECT_EQ(sam.model, "Samsung SSD 990 PRO 2TB");
  EXPECT_EQ(sam.pci_vendor, 0x144du);
  EXPECT_EQ(s->get(kOffload)->phison_controllers, std::vector<std::string>{"nvme0"});
  EXPECT_EQ(offload_rows(*s), (std::vector<std::string>{"nvme0n1/nvme0/phison", "nvme0n1/nvme0/swap",
                                                        "nvme0n2/nvme0/phison", "nvme0n2/nvme0/swap"}));
}

TEST(PhisonHost, ConfiguredOffloadDeviceBySerial) {
  Config c;
  c.settings.set(OffloadSelection{false, {"S73WNJ0W123456X"}});
  auto s = sample("phison-host", c);
  EXPECT_EQ(offload_rows(*s), (std::vector<std::string>{"nvme0n1/nvme0/swap", "nvme0n2/nvme0/swap",
                                                        "nvme1n1/nvme1/configured"}));
  // nvme1 (Samsung) is the configured offload device but not a Phison drive.
  EXPECT_EQ(s->get(kOffload)->phison_controllers, std::vector<std::string>{"nvme0"});
}

TEST(MinimalHost, OldKernelWithoutPsiSwapOrNvme) {
  auto s = sample("minimal-host");
  for (const auto& r : s->probes) EXPECT_NE(r.status, ProbeStatus::error) << r.probe << ": " << r.error;
  EXPECT_EQ(status_of(*s, "pressure"), ProbeStatus::no_data);
  EXPECT_EQ(status_of(*s, "nvme"), ProbeStatus::no_data);
  EXPECT_EQ(status_of(*s, "swaps"), ProbeStatus::ok);
  EXPECT_FALSE(s->get(kPressure));
  EXPECT_FALSE(s->get(kNvme));
  ASSERT_TRUE(s->get(kSwaps));
  EXPECT_TRUE(s->get(kSwaps)->areas.empty());
  ASSERT_TRUE(s->get(kDiskstats));
  ASSERT_EQ(s->get(kDiskstats)->devices.size(), 1u);  // sda; sda1/2, loop0, sr0 excluded
  EXPECT_EQ(s->get(kDiskstats)->devices[0].field_count, 11u);
  EXPECT_TRUE(s->get(kOffload)->devices.empty());
}
