// The probes on the project's own fixture hosts (tests/fixtures), written from
// the kernel's documented formats. Expected values are read off the fixture
// files by hand: see tests/fixtures/README.md for what each host models.

#include <gtest/gtest.h>

#include <algorithm>

#include "daemon/sampler.h"
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
  for (const auto& d : s.offload.devices) out.push_back(d.device + "/" + d.controller + "/" + d.role);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST(PhisonHost, MemoryTiers) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->meminfo);
  EXPECT_EQ(s->meminfo->fields.size(), 55u);  // every line of the file
  EXPECT_EQ(s->meminfo->get("MemTotal"), 130023424ull * 1024);
  EXPECT_EQ(s->meminfo->get("MemAvailable"), 10485760ull * 1024);
  EXPECT_EQ(s->meminfo->get("DirectMap1G"), 99614720ull * 1024);
  ASSERT_TRUE(s->vmstat);
  EXPECT_EQ(s->vmstat->pswpin, 262144u);
  EXPECT_EQ(s->vmstat->pswpout, 393216u);
  EXPECT_EQ(s->vmstat->pgmajfault, 1048576u);
  EXPECT_EQ(s->vmstat->oom_kill, 3u);
}

TEST(PhisonHost, PressureIncludingIrq) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->pressure);
  ASSERT_EQ(s->pressure->resources.size(), 4u);
  const auto& mem = s->pressure->resources[1];
  EXPECT_EQ(mem.resource, "memory");
  EXPECT_EQ(mem.some->total_us, 123456789012u);
  EXPECT_EQ(mem.full->total_us, 98765432101u);
  const auto& irq = s->pressure->resources[3];
  EXPECT_EQ(irq.resource, "irq");
  EXPECT_FALSE(irq.some);
  EXPECT_EQ(irq.full->total_us, 4242u);
}

TEST(PhisonHost, SwapPartitionAndSwapFileResolveToThePhisonNamespaces) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->swaps);
  ASSERT_EQ(s->swaps->areas.size(), 2u);
  const auto& part = s->swaps->areas[0];
  EXPECT_EQ(part.filename, "/dev/nvme0n1p3");
  EXPECT_EQ(part.size_bytes, 67108860ull * 1024);
  EXPECT_EQ(part.used_bytes, 1048576ull * 1024);
  EXPECT_EQ(part.block_device, "nvme0n1p3");
  EXPECT_EQ(part.disks, std::vector<std::string>{"nvme0n1"});
  const auto& file = s->swaps->areas[1];
  EXPECT_EQ(file.filename, "/mnt/offload/swapfile");
  EXPECT_EQ(file.type, "file");
  EXPECT_EQ(file.block_device, "nvme0n2p1");  // /mnt/offload is 259:5 in mountinfo
  EXPECT_EQ(file.disks, std::vector<std::string>{"nvme0n2"});
  // SwapTotal of meminfo is the sum of the areas.
  EXPECT_EQ(*s->meminfo->get("SwapTotal"), part.size_bytes + file.size_bytes);
}

TEST(PhisonHost, DiskstatsKeepsWholeDisksWithAllSeventeenFields) {
  auto s = sample("phison-host");
  ASSERT_TRUE(s->diskstats);
  std::vector<std::string> names;
  for (const auto& d : s->diskstats->devices) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"nvme0n1", "nvme0n2", "nvme1n1", "sda"}));
  const auto& n = s->diskstats->devices[0];
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
  ASSERT_TRUE(s->nvme);
  ASSERT_EQ(s->nvme->controllers.size(), 2u);
  const auto& p = s->nvme->controllers[0];
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
  const auto& sam = s->nvme->controllers[1];
  EXPECT_EQ(sam.model, "Samsung SSD 990 PRO 2TB");
  EXPECT_EQ(sam.pci_vendor, 0x144du);
  EXPECT_EQ(s->offload.phison_controllers, std::vector<std::string>{"nvme0"});
  EXPECT_EQ(offload_rows(*s), (std::vector<std::string>{"nvme0n1/nvme0/phison", "nvme0n1/nvme0/swap",
                                                        "nvme0n2/nvme0/phison", "nvme0n2/nvme0/swap"}));
}

TEST(PhisonHost, ConfiguredOffloadDeviceBySerial) {
  Config c;
  c.offload.auto_detect = false;
  c.offload.names = {"S73WNJ0W123456X"};
  auto s = sample("phison-host", c);
  EXPECT_EQ(offload_rows(*s), (std::vector<std::string>{"nvme0n1/nvme0/swap", "nvme0n2/nvme0/swap",
                                                        "nvme1n1/nvme1/configured"}));
  EXPECT_EQ(s->offload.phison_controllers, (std::vector<std::string>{"nvme0", "nvme1"}));
}

TEST(MinimalHost, OldKernelWithoutPsiSwapOrNvme) {
  auto s = sample("minimal-host");
  for (const auto& r : s->probes) EXPECT_NE(r.status, ProbeStatus::error) << r.probe << ": " << r.error;
  EXPECT_EQ(status_of(*s, "pressure"), ProbeStatus::no_data);
  EXPECT_EQ(status_of(*s, "nvme"), ProbeStatus::no_data);
  EXPECT_EQ(status_of(*s, "swaps"), ProbeStatus::ok);
  EXPECT_FALSE(s->pressure);
  EXPECT_FALSE(s->nvme);
  ASSERT_TRUE(s->swaps);
  EXPECT_TRUE(s->swaps->areas.empty());
  ASSERT_TRUE(s->diskstats);
  ASSERT_EQ(s->diskstats->devices.size(), 1u);  // sda; sda1/2, loop0, sr0 excluded
  EXPECT_EQ(s->diskstats->devices[0].field_count, 11u);
  EXPECT_TRUE(s->offload.devices.empty());
}
