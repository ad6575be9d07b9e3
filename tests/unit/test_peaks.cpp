#include <gtest/gtest.h>

#include "probes/peaks.h"

using namespace tierscope;
using namespace std::chrono_literals;

namespace {
DiskStats disks(std::initializer_list<std::tuple<const char*, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t>> rows) {
  DiskStats d;
  for (auto [name, reads, sr, writes, sw] : rows) {
    DiskStat s;
    s.name = name;
    s.field_count = 11;
    s.values[DiskStat::reads_completed] = reads;
    s.values[DiskStat::sectors_read] = sr;
    s.values[DiskStat::writes_completed] = writes;
    s.values[DiskStat::sectors_written] = sw;
    d.devices.push_back(s);
  }
  return d;
}
VmStat vm(std::uint64_t in, std::uint64_t out) {
  VmStat v;
  v.pswpin = in;
  v.pswpout = out;
  return v;
}
}  // namespace

TEST(Peaks, NoPeakUntilTwoSamples) {
  PeakTracker p(15s);
  auto t0 = PeakTracker::Clock::time_point{} + 100s;
  auto d = disks({{"sda", 0, 0, 0, 0}});
  auto v = vm(0, 0);
  p.add(t0, &d, &v);
  EXPECT_TRUE(p.disk_peaks().empty());
  EXPECT_FALSE(p.swap_peak());
}

TEST(Peaks, RatesUseTheActualElapsedTimeAndPeakIsTheMaxWithinTheWindow) {
  PeakTracker p(3s);
  auto t = PeakTracker::Clock::time_point{} + 100s;
  auto d0 = disks({{"nvme0n1", 0, 0, 0, 0}});
  auto d1 = disks({{"nvme0n1", 500, 8000, 100, 800}});    // +500 reads in 0.5 s = 1000 IOPS
  auto d2 = disks({{"nvme0n1", 800, 9000, 1100, 1600}});  // +300 reads in 1 s, +1000 writes
  auto v0 = vm(0, 0), v1 = vm(10, 0), v2 = vm(10, 40);
  p.add(t, &d0, &v0);
  p.add(t + 500ms, &d1, &v1);
  p.add(t + 1500ms, &d2, &v2);
  auto peaks = p.disk_peaks();
  ASSERT_EQ(peaks.size(), 1u);
  EXPECT_DOUBLE_EQ(peaks[0].read_iops, 1000);
  EXPECT_DOUBLE_EQ(peaks[0].write_iops, 1000);
  EXPECT_DOUBLE_EQ(peaks[0].read_bytes_per_second, 8000.0 * 512 / 0.5);
  EXPECT_DOUBLE_EQ(peaks[0].write_bytes_per_second, 800.0 * 512 / 0.5);  // 800 sectors in the first 0.5 s
  ASSERT_TRUE(p.swap_peak());
  EXPECT_DOUBLE_EQ(p.swap_peak()->in_pages_per_second, 20);
  EXPECT_DOUBLE_EQ(p.swap_peak()->out_pages_per_second, 40);
}

TEST(Peaks, OldIntervalsLeaveTheWindow) {
  PeakTracker p(2s);
  auto t = PeakTracker::Clock::time_point{} + 100s;
  std::uint64_t reads = 0;
  auto step = [&](std::chrono::milliseconds at, std::uint64_t add) {
    reads += add;
    auto d = disks({{"sda", reads, 0, 0, 0}});
    p.add(t + at, &d, nullptr);
  };
  step(0ms, 0);
  step(1000ms, 900);  // 900 IOPS burst in (0,1]
  step(2000ms, 10);
  EXPECT_DOUBLE_EQ(p.disk_peaks()[0].read_iops, 900);
  step(3000ms, 10);  // the burst interval ended 2 s ago: out of a 2 s window
  EXPECT_DOUBLE_EQ(p.disk_peaks()[0].read_iops, 10);
}

TEST(SlidingMax, KeepsOnlyCandidatesAndExpiresFromTheFront) {
  SlidingMax m;
  auto t = SlidingMax::Clock::time_point{} + 100s;
  EXPECT_FALSE(m.max());
  m.add(t + 1s, 5);
  m.add(t + 2s, 3);
  m.add(t + 3s, 4);  // drops 3: it can never be the maximum again
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.max(), 5);
  m.expire(t + 1s);  // the 5 ended at the cutoff: out
  EXPECT_EQ(m.max(), 4);
  m.add(t + 4s, 9);
  EXPECT_EQ(m.size(), 1u);
  m.expire(t + 4s);
  EXPECT_FALSE(m.max());
}

TEST(Peaks, LongRunOfFallingRatesKeepsTheWindowExact) {
  PeakTracker p(2s);
  auto t = PeakTracker::Clock::time_point{} + 100s;
  std::uint64_t reads = 0;
  for (int i = 0; i < 10000; ++i) {
    reads += static_cast<std::uint64_t>(10000 - i);  // decreasing rates: the worst case for the deque
    auto d = disks({{"sda", reads, 0, 0, 0}});
    p.add(t + std::chrono::milliseconds(100 * i), &d, nullptr);
  }
  // Rates 10000-i per 0.1 s; the window holds the last 20 intervals (i = 9980..9999).
  EXPECT_DOUBLE_EQ(p.disk_peaks()[0].read_iops, (10000 - 9980) / 0.1);
}

TEST(Peaks, CounterResetAndNewDevicesYieldNoBogusRate) {
  PeakTracker p(10s);
  auto t = PeakTracker::Clock::time_point{} + 100s;
  auto d0 = disks({{"sda", 1000, 0, 0, 0}});
  auto d1 = disks({{"sda", 10, 0, 0, 0}, {"sdb", 5, 0, 0, 0}});  // sda re-created; sdb appears
  p.add(t, &d0, nullptr);
  p.add(t + 1s, &d1, nullptr);
  EXPECT_TRUE(p.disk_peaks().empty());
  auto d2 = disks({{"sda", 20, 0, 0, 0}, {"sdb", 7, 0, 0, 0}});
  p.add(t + 2s, &d2, nullptr);
  auto peaks = p.disk_peaks();
  ASSERT_EQ(peaks.size(), 2u);
  EXPECT_DOUBLE_EQ(peaks[0].read_iops, 10);
  EXPECT_DOUBLE_EQ(peaks[1].read_iops, 2);
}

TEST(Peaks, VanishedDeviceHasNoPeakSeries) {
  PeakTracker p(10s);
  auto t = PeakTracker::Clock::time_point{} + 100s;
  auto a = disks({{"sda", 0, 0, 0, 0}, {"sdb", 0, 0, 0, 0}});
  auto b = disks({{"sda", 5, 0, 0, 0}, {"sdb", 5, 0, 0, 0}});
  auto c = disks({{"sda", 6, 0, 0, 0}});
  p.add(t, &a, nullptr);
  p.add(t + 1s, &b, nullptr);
  p.add(t + 2s, &c, nullptr);
  auto peaks = p.disk_peaks();
  ASSERT_EQ(peaks.size(), 1u);
  EXPECT_EQ(peaks[0].device, "sda");
  EXPECT_DOUBLE_EQ(peaks[0].read_iops, 5);
}

TEST(Peaks, ResetForgetsHistory) {
  PeakTracker p(10s);
  auto t = PeakTracker::Clock::time_point{} + 100s;
  auto a = disks({{"sda", 0, 0, 0, 0}});
  auto b = disks({{"sda", 5, 0, 0, 0}});
  p.add(t, &a, nullptr);
  p.add(t + 1s, &b, nullptr);
  p.reset();
  p.add(t + 2s, &b, nullptr);
  EXPECT_TRUE(p.disk_peaks().empty());
}
