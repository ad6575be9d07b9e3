#include <gtest/gtest.h>

#include <map>

#include "core/metric_writer.h"
#include "probes/snapshot.h"
#include "probes/swaps.h"
#include "probes/sysfs.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;

TEST(Swaps, ParsesPartitionsAndFilesSkippingTheHeader) {
  auto areas = parse_swaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/nvme0n1p3                          partition\t67108860\t1048576\t\t-2\n"
      "/swap\\040file                           file\t\t1024\t\t0\t\t5\n");
  ASSERT_EQ(areas.size(), 2u);
  EXPECT_EQ(areas[0].filename, "/dev/nvme0n1p3");
  EXPECT_EQ(areas[0].type, "partition");
  EXPECT_EQ(areas[0].size_bytes, 67108860ull * 1024);
  EXPECT_EQ(areas[0].used_bytes, 1048576ull * 1024);
  EXPECT_EQ(areas[0].priority, -2);
  EXPECT_EQ(areas[1].filename, "/swap file");  // \040 unescaped
  EXPECT_EQ(areas[1].priority, 5);
}

TEST(Swaps, HeaderOnlyMeansNoSwapAndMalformedLinesAreSkipped) {
  EXPECT_TRUE(parse_swaps("Filename Type Size Used Priority\n").empty());
  EXPECT_TRUE(parse_swaps("").empty());
  auto areas = parse_swaps(
      "/dev/a partition 10 1\n"               // truncated
      "/dev/b partition x 1 0\n"              // bad size
      "/dev/c partition 10 1 0 extra\n"       // extra field
      "/dev/d partition 18446744073709551615 0 0\n"  // overflows as bytes
      "/dev/e partition 10 2 -1\n"
      "/dev/e partition 10 2 -1\n");          // repeated: one area
  ASSERT_EQ(areas.size(), 1u);
  EXPECT_EQ(areas[0].filename, "/dev/e");
}

TEST(Mountinfo, ParsesOptionalFieldsAndEscapes) {
  auto m = parse_mountinfo(
      "36 35 98:0 /mnt1 /mnt/parent\\040dir rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n"
      "37 36 0:45 / /mnt/parent\\040dir/btr rw - btrfs /dev/nvme0n2p1 rw\n"
      "garbage line\n"
      "38 36 1:x / /bad rw - ext4 /dev/x rw\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].major, 98u);
  EXPECT_EQ(m[0].minor, 0u);
  EXPECT_EQ(m[0].mount_point, "/mnt/parent dir");
  EXPECT_EQ(m[0].fstype, "ext3");
  EXPECT_EQ(m[0].source, "/dev/root");
  EXPECT_EQ(m[1].fstype, "btrfs");
}

TEST(Mountinfo, LongestCoveringMountWinsAndLaterMountsCoverEarlier) {
  auto m = parse_mountinfo(
      "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "2 1 8:2 / /mnt rw - ext4 /dev/sda2 rw\n"
      "3 2 8:3 / /mnt/off rw - ext4 /dev/sda3 rw\n"
      "4 2 8:4 / /mnt/off rw - ext4 /dev/sda4 rw\n");  // mounted over /mnt/off
  EXPECT_EQ(mount_for_path(m, "/mnt/off/swapfile")->source, "/dev/sda4");
  EXPECT_EQ(mount_for_path(m, "/mnt/offload/swapfile")->source, "/dev/sda2");  // not a path prefix
  EXPECT_EQ(mount_for_path(m, "/swapfile")->source, "/dev/sda1");
  EXPECT_EQ(mount_for_path(m, "relative"), nullptr);
}

// A tree with a swap partition on nvme0n1p3, a swap LV /dev/mapper/vg-swap =
// dm-0 over nvme0n1p2 and sda1, and a swap file on a btrfs filesystem
// (anonymous device 0:45) whose source is /dev/nvme0n1p1.
class SwapTopology : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string nvme = "devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0/nvme0n1";
    const std::string sda = "devices/pci0000:00/0000:00:17.0/ata1/block/sda";
    auto disk = [&](const std::string& dir, const std::string& name, const std::string& devnum) {
      t.write("sys/" + dir + "/size", "1000\n");
      t.symlink("../../" + dir, "sys/class/block/" + name);
      t.symlink("../" + dir, "sys/block/" + name);
      t.symlink("../../" + dir, "sys/dev/block/" + devnum);
    };
    auto part = [&](const std::string& dir, const std::string& name, const std::string& devnum) {
      t.write("sys/" + dir + "/partition", "1\n");
      t.symlink("../../" + dir, "sys/class/block/" + name);
      t.symlink("../../" + dir, "sys/dev/block/" + devnum);
    };
    disk(nvme, "nvme0n1", "259:0");
    part(nvme + "/nvme0n1p1", "nvme0n1p1", "259:1");
    part(nvme + "/nvme0n1p2", "nvme0n1p2", "259:2");
    part(nvme + "/nvme0n1p3", "nvme0n1p3", "259:3");
    disk(sda, "sda", "8:0");
    part(sda + "/sda1", "sda1", "8:1");
    disk("devices/virtual/block/dm-0", "dm-0", "253:0");
    t.symlink("../../../" + nvme + "/nvme0n1p2", "sys/devices/virtual/block/dm-0/slaves/nvme0n1p2");
    t.symlink("../../../" + sda + "/sda1", "sys/devices/virtual/block/dm-0/slaves/sda1");
    t.write("dev/nvme0n1p3", "");
    t.write("dev/dm-0", "");
    t.symlink("../dm-0", "dev/mapper/vg-swap");
    t.write("proc/self/mountinfo",
            "1 0 259:2 / / rw - ext4 /dev/nvme0n1p2 rw\n"
            "2 1 0:45 / /srv rw - btrfs /dev/nvme0n1p1 rw\n");
  }
  TempDir t;
};

TEST_F(SwapTopology, ResolvesDevicePathsThroughDevfsLinks) {
  auto roots = t.roots();
  EXPECT_EQ(sysfs::block_device_for_dev_path(roots, "/dev/nvme0n1p3"), "nvme0n1p3");
  EXPECT_EQ(sysfs::block_device_for_dev_path(roots, "/dev/mapper/vg-swap"), "dm-0");
  EXPECT_FALSE(sysfs::block_device_for_dev_path(roots, "/swapfile"));
  EXPECT_EQ(sysfs::block_device_for_devnum(roots, 259, 3), "nvme0n1p3");
  EXPECT_FALSE(sysfs::block_device_for_devnum(roots, 0, 45));
}

TEST_F(SwapTopology, FindsWholeDisksBehindPartitionsAndDeviceMapper) {
  auto roots = t.roots();
  EXPECT_EQ(sysfs::whole_disks_of(roots, "nvme0n1p3"), std::vector<std::string>{"nvme0n1"});
  EXPECT_EQ(sysfs::whole_disks_of(roots, "nvme0n1"), std::vector<std::string>{"nvme0n1"});
  EXPECT_EQ(sysfs::whole_disks_of(roots, "dm-0"), (std::vector<std::string>{"nvme0n1", "sda"}));
  EXPECT_TRUE(sysfs::whole_disks_of(roots, "unknown0").empty());
}

TEST_F(SwapTopology, ProbeResolvesPartitionLogicalVolumeAndFileOnBtrfs) {
  t.write("proc/swaps",
          "Filename Type Size Used Priority\n"
          "/dev/nvme0n1p3 partition 100 10 -2\n"
          "/dev/mapper/vg-swap partition 200 0 -3\n"
          "/srv/swapfile file 300 30 -4\n"
          "/swapfile file 400 0 -5\n");
  ProbeRig rig(t.roots());
  SwapsProbe probe;
  ASSERT_EQ(rig.run(probe).status, ProbeStatus::ok);
  ASSERT_TRUE(rig.snap.get(kSwaps));
  const auto& a = rig.snap.get(kSwaps)->areas;
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].block_device, "nvme0n1p3");
  EXPECT_EQ(a[0].disks, std::vector<std::string>{"nvme0n1"});
  EXPECT_EQ(a[1].block_device, "dm-0");
  EXPECT_EQ(a[1].disks, (std::vector<std::string>{"nvme0n1", "sda"}));
  EXPECT_EQ(a[2].block_device, "nvme0n1p1");  // 0:45 is anonymous: resolved by mount source
  EXPECT_EQ(a[2].disks, std::vector<std::string>{"nvme0n1"});
  EXPECT_EQ(a[3].block_device, "nvme0n1p2");  // root filesystem, by device number
}

TEST(Swaps, RendersTierSeriesAndOneInfoSeriesPerDisk) {
  Swaps s;
  SwapArea a;
  a.filename = "/dev/mapper/vg-swap";
  a.type = "partition";
  a.size_bytes = 2048;
  a.used_bytes = 1024;
  a.priority = -2;
  a.block_device = "dm-0";
  a.disks = {"nvme0n1", "sda"};
  s.areas.push_back(a);
  MetricWriter w;
  render_swaps(s, w);
  auto fams = std::move(w).finish();
  std::map<std::string, const prometheus::MetricFamily*> by;
  for (const auto& f : fams) by[f.name] = &f;
  ASSERT_TRUE(by.count("tierscope_memory_capacity_bytes"));
  EXPECT_EQ(by["tierscope_memory_capacity_bytes"]->metric[0].label,
            (Labels{{"device", "/dev/mapper/vg-swap"}, {"tier", "swap"}}));
  EXPECT_EQ(by["tierscope_memory_capacity_bytes"]->metric[0].gauge.value, 2048);
  EXPECT_EQ(by["tierscope_memory_used_bytes"]->metric[0].gauge.value, 1024);
  EXPECT_EQ(by["tierscope_swap_priority"]->metric[0].gauge.value, -2);
  ASSERT_EQ(by["tierscope_swap_device_info"]->metric.size(), 2u);
  EXPECT_EQ(by["tierscope_swap_device_info"]->metric[1].label,
            (Labels{{"block_device", "dm-0"}, {"device", "/dev/mapper/vg-swap"}, {"disk", "sda"}, {"type", "partition"}}));
}
