#include <gtest/gtest.h>

#include <string>

#include "core/metric_writer.h"
#include "probes/meminfo.h"

using namespace tierscope;

namespace {
double gauge(const std::vector<prometheus::MetricFamily>& fams, std::string_view name, const Labels& labels = {}) {
  for (const auto& f : fams)
    if (f.name == name)
      for (const auto& m : f.metric)
        if (m.label == labels) return m.gauge.value;
  ADD_FAILURE() << "no series " << name;
  return -1;
}
bool has_family(const std::vector<prometheus::MetricFamily>& fams, std::string_view name) {
  for (const auto& f : fams)
    if (f.name == name) return true;
  return false;
}
}  // namespace

TEST(MemInfo, ConvertsKilobytesToBytesAndKeepsCounts) {
  auto m = parse_meminfo(
      "MemTotal:       16384 kB\n"
      "MemAvailable:    4096 kB\n"
      "Active(file):    1000 kB\n"
      "HugePages_Total:      7\n");
  ASSERT_EQ(m.fields.size(), 4u);
  EXPECT_EQ(m.get("MemTotal"), 16384u * 1024);
  EXPECT_TRUE(m.fields[0].bytes);
  EXPECT_EQ(m.get("Active(file)"), 1000u * 1024);
  EXPECT_EQ(m.get("HugePages_Total"), 7u);
  EXPECT_FALSE(m.fields[3].bytes);
  EXPECT_FALSE(m.get("SwapTotal"));
}

TEST(MemInfo, SkipsMalformedTruncatedAndUnknownUnitLines) {
  auto m = parse_meminfo(
      "MemTotal: 100 kB\n"
      "NoColon 5 kB\n"
      ": 5 kB\n"
      "Bad:   x kB\n"
      "Neg:  -5 kB\n"
      "Unit:  5 MB\n"
      "Extra: 5 kB trailing\n"
      "Huge:  18446744073709551615 kB\n"  // would overflow in bytes
      "MemTotal: 999 kB\n"                // repeated name: first wins
      "MemFree:  3");                     // truncated (no newline, no unit): a count
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.get("MemTotal"), 100u * 1024);
  EXPECT_EQ(m.get("MemFree"), 3u);
}

TEST(MemInfo, EmptyAndBinaryInputYieldNothing) {
  EXPECT_TRUE(parse_meminfo("").fields.empty());
  EXPECT_TRUE(parse_meminfo(std::string("\0\0\xff\n", 4)).fields.empty());
}

TEST(MemInfo, HugeInputIsParsedLinearly) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "Field" + std::to_string(i) + ": " + std::to_string(i) + " kB\n";
  auto m = parse_meminfo(text.substr(0, 200000));  // also cut mid-line
  EXPECT_GT(m.fields.size(), 1000u);
}

TEST(MemInfo, RendersEveryFieldAndTheTierView) {
  auto m = parse_meminfo(
      "MemTotal:       1000 kB\nMemAvailable:    250 kB\nActive(file):    100 kB\nInactive(file):   50 kB\n"
      "AnonPages:       300 kB\nShmem:            20 kB\nHugePages_Free:     2\n");
  MetricWriter w;
  render_meminfo(m, w);
  auto fams = std::move(w).finish();
  EXPECT_EQ(gauge(fams, "tierscope_meminfo_mem_total_bytes"), 1000.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_meminfo_active_file_bytes"), 100.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_meminfo_huge_pages_free_pages"), 2.0);
  EXPECT_EQ(gauge(fams, "tierscope_memory_capacity_bytes", {{"device", "host"}, {"tier", "ram"}}), 1000.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_memory_used_bytes", {{"device", "host"}, {"tier", "ram"}}), 750.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_memory_available_bytes"), 250.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_memory_page_cache_bytes"), 150.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_memory_anon_bytes"), 300.0 * 1024);
  EXPECT_EQ(gauge(fams, "tierscope_memory_shmem_bytes"), 20.0 * 1024);
}

TEST(MemInfo, AbsentFieldsGiveAbsentSeriesNeverZero) {
  // A pre-3.14 kernel without MemAvailable: no "used", no "available".
  MetricWriter w;
  render_meminfo(parse_meminfo("MemTotal: 1000 kB\nActive(file): 1 kB\n"), w);
  auto fams = std::move(w).finish();
  EXPECT_TRUE(has_family(fams, "tierscope_memory_capacity_bytes"));
  EXPECT_FALSE(has_family(fams, "tierscope_memory_used_bytes"));
  EXPECT_FALSE(has_family(fams, "tierscope_memory_available_bytes"));
  EXPECT_FALSE(has_family(fams, "tierscope_memory_page_cache_bytes"));  // Inactive(file) missing
  EXPECT_FALSE(has_family(fams, "tierscope_memory_anon_bytes"));
}

TEST(MemInfo, FieldNamesBecomeSnakeCase) {
  EXPECT_EQ(meminfo_metric_suffix("MemTotal"), "mem_total");
  EXPECT_EQ(meminfo_metric_suffix("Active(anon)"), "active_anon");
  EXPECT_EQ(meminfo_metric_suffix("SReclaimable"), "slab_reclaimable");
  EXPECT_EQ(meminfo_metric_suffix("SUnreclaim"), "slab_unreclaimable");
  EXPECT_EQ(meminfo_metric_suffix("SecPageTables"), "secondary_page_tables");
  EXPECT_EQ(meminfo_metric_suffix("XReserved"), "x_reserved");
  EXPECT_EQ(meminfo_metric_suffix("SFoo"), "sfoo");           // a lone "s" would read as seconds
  EXPECT_EQ(meminfo_metric_suffix("BigMBuffers"), "big_mbuffers");
  EXPECT_EQ(meminfo_metric_suffix("NFS_Unstable"), "nfs_unstable");
  EXPECT_EQ(meminfo_metric_suffix("Committed_AS"), "committed_as");
  EXPECT_EQ(meminfo_metric_suffix("DirectMap2M"), "direct_map_2m");
  EXPECT_EQ(meminfo_metric_suffix("DirectMap4k"), "direct_map_4k");
  EXPECT_EQ(meminfo_metric_suffix("HugePages_Total"), "huge_pages_total");
  EXPECT_EQ(meminfo_metric_suffix("Hugepagesize"), "hugepagesize");
  EXPECT_EQ(meminfo_metric_suffix("ShmemPmdMapped"), "shmem_pmd_mapped");
  EXPECT_EQ(meminfo_metric_suffix("Zswapped"), "zswapped");
  EXPECT_EQ(meminfo_metric_suffix("(weird)__Name_"), "weird_name");
}

TEST(MemInfo, PageCacheSumThatWouldOverflowIsAbsent) {
  MetricWriter w;
  render_meminfo(parse_meminfo("Active(file): 18014398509481983 kB\nInactive(file): 18014398509481983 kB\n"), w);
  auto fams = std::move(w).finish();
  EXPECT_FALSE(has_family(fams, "tierscope_memory_page_cache_bytes"));
}

TEST(MemInfo, NamesThatCollideAfterSnakeCaseGiveOneSeries) {
  MetricWriter w;
  render_meminfo(parse_meminfo("Active(anon): 1 kB\nActive_anon: 2 kB\n"), w);
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams.size(), 1u);
  ASSERT_EQ(fams[0].metric.size(), 1u);
  EXPECT_EQ(fams[0].metric[0].gauge.value, 1024);  // the first line wins
}
