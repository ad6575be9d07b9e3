#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "probes/sampler.h"
#include "test_util.h"

using namespace tierscope;
using namespace std::chrono_literals;
using tierscope::testing::fixture_roots;
using tierscope::testing::TempDir;

namespace {
Config fixture_config(const char* host) {
  Config c;
  c.roots = fixture_roots(host);
  c.sample_interval = 100ms;
  c.peak_window = 1000ms;
  return c;
}
const ProbeRun* run_of(const Snapshot& s, std::string_view probe) {
  for (const auto& r : s.probes)
    if (r.probe == probe) return &r;
  return nullptr;
}
}  // namespace

TEST(Deadline, OnTimeTicksStayOnTheGrid) {
  auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  auto n = next_deadline(t0, t0 + 30ms, 100ms);
  EXPECT_EQ(n.at, t0 + 100ms);
  EXPECT_FALSE(n.overran);
}

TEST(Deadline, OverrunSkipsMissedDeadlinesAndKeepsThePhase) {
  auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  auto n = next_deadline(t0, t0 + 350ms, 100ms);  // finished 2.5 intervals late
  EXPECT_EQ(n.at, t0 + 400ms);
  EXPECT_TRUE(n.overran);
  auto exact = next_deadline(t0, t0 + 100ms, 100ms);  // finished exactly at the next deadline
  EXPECT_EQ(exact.at, t0 + 100ms);
  EXPECT_FALSE(exact.overran);
}

TEST(Sampler, SampleNowRunsEveryEnabledProbeAndCounts) {
  Logger log(LogLevel::error);
  Sampler s(fixture_config("phison-host"), log);
  EXPECT_EQ(s.latest(), nullptr);
  auto a = s.sample_now();
  auto b = s.sample_now();
  EXPECT_EQ(a->sequence, 1u);
  EXPECT_EQ(b->samples_total, 2u);
  EXPECT_EQ(b->probes.size(), 12u);
  for (const auto& r : b->probes) EXPECT_NE(r.status, ProbeStatus::error) << r.probe << ": " << r.error;
  EXPECT_EQ(run_of(*b, "meminfo")->status, ProbeStatus::ok);
  EXPECT_EQ(run_of(*b, "workload")->status, ProbeStatus::no_data);  // nothing configured
  EXPECT_EQ(run_of(*b, "workload_memory")->status, ProbeStatus::no_data);
  EXPECT_FALSE(a->get(kDiskPeaks));   // one sample: no interval yet
  EXPECT_EQ(b->get(kDiskPeaks)->size(), 4u);  // nvme0n1 nvme0n2 nvme1n1 sda
  EXPECT_EQ(b->interval_seconds, 0.1);
  EXPECT_EQ(s.latest(), b);
}

TEST(Sampler, ThreadSamplesOnItsCadenceAndStops) {
  Logger log(LogLevel::error);
  Sampler s(fixture_config("minimal-host"), log);
  std::atomic<int> ticks{0};
  s.on_tick([&](const Snapshot&) { ++ticks; });
  s.sample_now();
  s.start();
  for (int i = 0; i < 100 && ticks < 3; ++i) std::this_thread::sleep_for(50ms);
  s.stop();
  EXPECT_GE(ticks.load(), 3);
  auto seq = s.latest()->sequence;
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(s.latest()->sequence, seq);  // stopped means stopped
}

TEST(Sampler, ApplyChangesProbesWithoutLosingCounters) {
  Logger log(LogLevel::error);
  Config c = fixture_config("phison-host");
  Sampler s(c, log);
  s.sample_now();
  s.sample_now();
  c.probes["nvme"] = false;
  c.sample_interval = 200ms;
  s.apply(c);  // not running: applied at once
  auto snap = s.sample_now();
  EXPECT_EQ(snap->samples_total, 3u);
  EXPECT_FALSE(snap->get(kNvme));
  EXPECT_EQ(run_of(*snap, "nvme"), nullptr);
  EXPECT_EQ(snap->interval_seconds, 0.2);
  EXPECT_TRUE(snap->get(kDiskPeaks));  // same roots: history kept
}

TEST(Sampler, ApplyWhileRunningTakesEffectAtTheNextTick) {
  Logger log(LogLevel::error);
  Config c = fixture_config("phison-host");
  Sampler s(c, log);
  s.sample_now();
  s.start();
  c.probes["pressure"] = false;
  s.apply(c);
  std::shared_ptr<const Snapshot> snap;
  for (int i = 0; i < 100; ++i) {
    snap = s.latest();
    if (!run_of(*snap, "pressure")) break;
    std::this_thread::sleep_for(20ms);
  }
  s.stop();
  EXPECT_EQ(run_of(*snap, "pressure"), nullptr);
  EXPECT_FALSE(snap->get(kPressure));
  EXPECT_GE(snap->samples_total, 2u);
}

TEST(Sampler, NewRootsResetTheHistory) {
  Logger log(LogLevel::error);
  Config c = fixture_config("phison-host");
  Sampler s(c, log);
  s.sample_now();
  EXPECT_TRUE(s.sample_now()->get(kDiskPeaks));
  c.roots = fixture_roots("minimal-host");
  s.apply(c);
  EXPECT_FALSE(s.sample_now()->get(kDiskPeaks));  // no diff across hosts
  EXPECT_EQ(s.sample_now()->get(kDiskPeaks)->size(), 1u);
}

TEST(Sampler, AFailingProbeIsRecordedAndTheOthersGoOn) {
  TempDir t;
  t.write("proc/diskstats", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n");  // no meminfo, vmstat, swaps
  Config c;
  c.roots = t.roots();
  Logger log(LogLevel::error);
  Sampler s(c, log);
  auto snap = s.sample_now();
  EXPECT_EQ(run_of(*snap, "meminfo")->status, ProbeStatus::error);
  EXPECT_NE(run_of(*snap, "meminfo")->error.find("meminfo: No such file or directory"), std::string::npos);
  EXPECT_EQ(run_of(*snap, "swaps")->status, ProbeStatus::error);
  EXPECT_EQ(run_of(*snap, "pressure")->status, ProbeStatus::no_data);
  EXPECT_EQ(run_of(*snap, "nvme")->status, ProbeStatus::no_data);
  EXPECT_EQ(run_of(*snap, "diskstats")->status, ProbeStatus::ok);
  EXPECT_FALSE(snap->get(kMeminfo));
  ASSERT_TRUE(snap->get(kDiskstats));
  EXPECT_EQ(snap->get(kDiskstats)->devices.size(), 1u);
}
