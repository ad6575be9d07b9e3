#include <gtest/gtest.h>

#include "core/metric_writer.h"
#include "probes/vmstat.h"

using namespace tierscope;

TEST(VmStat, PicksTheTierCounters) {
  auto v = parse_vmstat(
      "nr_free_pages 12\npgpgin 100\npgpgout 200\npswpin 3\npswpout 4\n"
      "pgfault 999\npgmajfault 5\noom_kill 6\nswap_ra 7\n");
  EXPECT_EQ(v.pgpgin, 100u);
  EXPECT_EQ(v.pgpgout, 200u);
  EXPECT_EQ(v.pswpin, 3u);
  EXPECT_EQ(v.pswpout, 4u);
  EXPECT_EQ(v.pgmajfault, 5u);
  EXPECT_EQ(v.oom_kill, 6u);
}

TEST(VmStat, MissingMalformedAndRepeatedLines) {
  auto v = parse_vmstat("pswpin\npswpout x\npgmajfault 1 2\noom_kill -1\npgpgin 7\npgpgin 8\npgpgout 9");
  EXPECT_FALSE(v.pswpin);
  EXPECT_FALSE(v.pswpout);
  EXPECT_FALSE(v.pgmajfault);
  EXPECT_FALSE(v.oom_kill);  // pre-4.13 kernels have no oom_kill either
  EXPECT_EQ(v.pgpgin, 7u);   // first wins
  EXPECT_EQ(v.pgpgout, 9u);  // no trailing newline
}

TEST(VmStat, RendersBytesForPgpgAndOmitsWhatIsMissing) {
  VmStat v;
  v.pgpgin = 10;
  v.pswpout = 2;
  MetricWriter w;
  render_vmstat(v, w);
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "tierscope_page_in_bytes_total");
  EXPECT_EQ(fams[0].metric[0].counter.value, 10240.0);
  EXPECT_EQ(fams[0].type, prometheus::MetricType::Counter);
  EXPECT_EQ(fams[1].name, "tierscope_swap_out_pages_total");
  EXPECT_EQ(fams[1].metric[0].counter.value, 2.0);
}
