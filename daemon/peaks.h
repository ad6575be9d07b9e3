#pragma once
// The bounded history from which sub-second peaks are computed. Each new
// sample yields one interval: the counter deltas since the previous sample
// divided by the time actually elapsed (steady clock), per device. The peak of
// a series is the highest of its interval rates whose interval ended within
// the peak window. Intervals older than the window are dropped, so memory is
// bounded by window / sample_interval.
//
// A counter that went backwards (device re-created, 32-bit wrap) yields no
// rate for that interval; a device seen for the first time yields none until
// its second sample.

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/snapshot.h"

namespace tierscope {

class PeakTracker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PeakTracker(std::chrono::milliseconds window) : window_(window) {}

  void set_window(std::chrono::milliseconds window) { window_ = window; }
  // Forget all history (roots changed: counters are from another host).
  void reset();

  void add(Clock::time_point t, const DiskStats* disks, const VmStat* vmstat);

  std::vector<DiskPeak> disk_peaks() const;   // sorted by device
  std::optional<SwapPeak> swap_peak() const;
  std::size_t intervals() const { return intervals_.size(); }

 private:
  struct DiskCounters {
    std::uint64_t reads, writes, sectors_read, sectors_written;
  };
  struct Interval {
    Clock::time_point end;
    std::vector<DiskPeak> disks;   // rates of this interval
    std::optional<SwapPeak> swap;  // likewise
  };
  std::chrono::milliseconds window_;
  std::deque<Interval> intervals_;
  std::optional<Clock::time_point> prev_time_;
  std::unordered_map<std::string, DiskCounters> prev_disks_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> prev_swap_;
};

}  // namespace tierscope
