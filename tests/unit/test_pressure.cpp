#include <gtest/gtest.h>

#include "core/metric_writer.h"
#include "probes/pressure.h"
#include "probes/snapshot.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::ProbeRig;
using tierscope::testing::TempDir;

TEST(Pressure, ParsesSomeAndFull) {
  auto r = parse_pressure("memory",
                          "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
                          "full avg10=0.50 avg60=0.10 avg300=0.00 total=654\n");
  EXPECT_EQ(r.resource, "memory");
  ASSERT_TRUE(r.some);
  EXPECT_DOUBLE_EQ(r.some->avg10, 1.5);
  EXPECT_DOUBLE_EQ(r.some->avg60, 0.25);
  EXPECT_EQ(r.some->total_us, 123456u);
  ASSERT_TRUE(r.full);
  EXPECT_EQ(r.full->total_us, 654u);
}

TEST(Pressure, IrqHasOnlyFullAndOldCpuHasOnlySome) {
  auto irq = parse_pressure("irq", "full avg10=0.00 avg60=0.00 avg300=0.00 total=8494");
  EXPECT_FALSE(irq.some);
  ASSERT_TRUE(irq.full);
  EXPECT_EQ(irq.full->total_us, 8494u);
  auto cpu = parse_pressure("cpu", "some avg10=0.10 avg60=2.00 avg300=3.85 total=15\n");
  EXPECT_TRUE(cpu.some);
  EXPECT_FALSE(cpu.full);
}

TEST(Pressure, RejectsLinesWithoutTotalOrWithGarbage) {
  auto r = parse_pressure("io",
                          "some avg10=0.00 avg60=0.00 avg300=0.00\n"          // no total
                          "full avg10=x avg60=0.00 avg300=0.00 total=5\n"     // bad avg
                          "bogus avg10=0.00 total=1\n");
  EXPECT_FALSE(r.some);
  EXPECT_FALSE(r.full);
  auto t = parse_pressure("io", "some total=77 newkey=3\n");  // unknown keys tolerated
  ASSERT_TRUE(t.some);
  EXPECT_EQ(t.some->total_us, 77u);
}

TEST(Pressure, KernelWithoutPsiIsNoDataNotFailure) {
  TempDir t;
  t.write("proc/meminfo", "MemTotal: 1 kB\n");  // a procfs without /proc/pressure
  ProbeRig rig(t.roots());
  PressureProbe probe;
  auto outcome = rig.run(probe);
  EXPECT_EQ(outcome.status, ProbeStatus::no_data);
  EXPECT_FALSE(rig.snap.get(kPressure));
}

TEST(Pressure, MalformedFileIsAFailureButOtherResourcesStillReport) {
  TempDir t;
  t.write("proc/pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\n");
  t.write("proc/pressure/memory", "garbage\n");
  ProbeRig rig(t.roots());
  PressureProbe probe;
  auto outcome = rig.run(probe);
  EXPECT_EQ(outcome.status, ProbeStatus::error);
  EXPECT_NE(outcome.error.find("pressure/memory"), std::string::npos);
  ASSERT_TRUE(rig.snap.get(kPressure));
  ASSERT_EQ(rig.snap.get(kPressure)->resources.size(), 1u);
  EXPECT_EQ(rig.snap.get(kPressure)->resources[0].resource, "cpu");
}

TEST(Pressure, RendersMicrosecondsAsSeconds) {
  Pressure p;
  p.resources.push_back(parse_pressure("io", "some total=1500000\nfull total=250\n"));
  MetricWriter w;
  render_pressure(p, w);
  auto fams = std::move(w).finish();
  ASSERT_EQ(fams.size(), 1u);
  ASSERT_EQ(fams[0].metric.size(), 2u);
  EXPECT_EQ(fams[0].metric[0].label, (Labels{{"kind", "full"}, {"resource", "io"}}));
  EXPECT_DOUBLE_EQ(fams[0].metric[0].counter.value, 0.00025);
  EXPECT_DOUBLE_EQ(fams[0].metric[1].counter.value, 1.5);
}
