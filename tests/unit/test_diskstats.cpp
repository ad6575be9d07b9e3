#include <gtest/gtest.h>

#include <map>

#include "core/metric_writer.h"
#include "probes/diskstats.h"

using namespace tierscope;

TEST(DiskStats, ParsesElevenFifteenAndSeventeenFieldLines) {
  auto d = parse_diskstats(
      "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
      "   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
      " 259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
      " 259       1 nvme0n2 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n");  // future fields ignored
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].field_count, 11u);
  EXPECT_EQ(d[0].get(DiskStat::weighted_io_ms), 11u);
  EXPECT_FALSE(d[0].get(DiskStat::discards_completed));
  EXPECT_EQ(d[1].field_count, 15u);
  EXPECT_EQ(d[1].get(DiskStat::discard_ms), 15u);
  EXPECT_FALSE(d[1].get(DiskStat::flushes_completed));
  EXPECT_EQ(d[2].field_count, 17u);
  EXPECT_EQ(d[2].get(DiskStat::flush_ms), 17u);
  EXPECT_EQ(d[2].major, 259u);
  EXPECT_EQ(d[3].field_count, 17u);
}

TEST(DiskStats, SkipsOldPartitionFormatTruncatedAndGarbageLines) {
  auto d = parse_diskstats(
      "   3    1 hda1 35486 38030 38030 38030\n"       // 2.6-era 4-field partition line
      "   8    0 sda 1 2 3\n"                            // truncated
      "   8    0 sdx 1 2 3 4 5 6 7 8 9 10 x\n"           // garbage value
      "   x    0 sdy 1 2 3 4 5 6 7 8 9 10 11\n"          // bad major
      "   8   32 sdc 1 2 3 4 5 6 7 8 9 10 11\n"
      "   8   32 sdc 9 9 9 9 9 9 9 9 9 9 9\n"            // repeated name: first wins
      "   8   48 sdd 1 2 3 4 5 6 7 8 9 10");              // 10 fields, no newline
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].name, "sdc");
  EXPECT_EQ(d[0].get(DiskStat::reads_completed), 1u);
}

TEST(DeviceFilter, DefaultKeepsWholeDisksAndDropsPartitionsLoopRamZram) {
  DeviceFilter f;
  for (auto keep : {"sda", "nvme0n1", "nvme10n2", "vda", "xvdb", "mmcblk0", "dm-0", "md0", "sdaa"})
    EXPECT_TRUE(f.keep(keep)) << keep;
  for (auto drop : {"sda1", "sdaa12", "nvme0n1p3", "nvme0c0n1p1", "mmcblk0p1", "md0p1", "loop0", "ram15", "zram0",
                    "sr0", "fd0", "vda2", "xvdb1"})
    EXPECT_FALSE(f.keep(drop)) << drop;
}

TEST(DeviceFilter, IncludeAndExcludeCompose) {
  DeviceFilter f("^(nvme|loop)", "^loop[1-9]");
  EXPECT_TRUE(f.keep("nvme0n1"));
  EXPECT_TRUE(f.keep("loop0"));
  EXPECT_FALSE(f.keep("loop1"));
  EXPECT_FALSE(f.keep("sda"));
  EXPECT_FALSE(f.keep("sda"));  // cached answer is the same
  DeviceFilter all("", "");
  EXPECT_TRUE(all.keep("loop0"));
  EXPECT_THROW(DeviceFilter("(", ""), std::regex_error);
}

TEST(DiskStats, RendersBaseUnitsAndOmitsFieldsTheKernelLacks) {
  DiskStats d;
  d.devices = parse_diskstats("8 0 sda 10 1 2048 1500 20 2 4096 250 3 999 1234\n");
  MetricWriter w;
  render_diskstats(d, w);
  auto fams = std::move(w).finish();
  std::map<std::string, double> v;
  for (const auto& f : fams) v[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value
                                                                                   : f.metric[0].gauge.value;
  EXPECT_EQ(v.size(), 11u);  // no discard/flush series for an 11-field kernel
  EXPECT_EQ(v["tierscope_disk_reads_completed_total"], 10);
  EXPECT_EQ(v["tierscope_disk_read_bytes_total"], 2048.0 * 512);
  EXPECT_EQ(v["tierscope_disk_read_time_seconds_total"], 1.5);
  EXPECT_EQ(v["tierscope_disk_write_time_seconds_total"], 0.25);
  EXPECT_EQ(v["tierscope_disk_written_bytes_total"], 4096.0 * 512);
  EXPECT_EQ(v["tierscope_disk_io_in_progress"], 3);
  EXPECT_EQ(v["tierscope_disk_io_time_seconds_total"], 0.999);
  EXPECT_EQ(v["tierscope_disk_io_time_weighted_seconds_total"], 1.234);
  EXPECT_FALSE(v.count("tierscope_disk_discards_completed_total"));
}
