#pragma once
// Sub-second peaks. Each new sample yields one interval per series: the
// counter delta since the previous sample divided by the time actually
// elapsed (steady clock). The peak of a series is the highest of its interval
// rates whose interval ended within the peak window.
//
// Each series keeps a sliding-window maximum (a deque of rates in decreasing
// order): a new rate drops every older, smaller one, expired rates leave from
// the front, and the front is the peak. Adding a sample is O(1) amortized per
// series whatever the window, and memory is bounded by window / interval.
//
// A counter that went backwards (device re-created, 32-bit wrap) yields no
// rate for that interval; a device seen for the first time yields none until
// its second sample; a device that vanished loses its series.

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/diskstats.h"
#include "probes/registry.h"
#include "probes/snapshot.h"
#include "probes/vmstat.h"

namespace tierscope {

// Highest per-interval rates within the peak window.
struct DiskPeak {
  std::string device;
  double read_iops = 0, write_iops = 0;
  double read_bytes_per_second = 0, write_bytes_per_second = 0;
};
struct SwapPeak {
  double in_pages_per_second = 0, out_pages_per_second = 0;
};

class SlidingMax {
 public:
  using Clock = std::chrono::steady_clock;
  void add(Clock::time_point end, double value);
  // Drops values whose interval ended at or before `cutoff`.
  void expire(Clock::time_point cutoff);
  std::optional<double> max() const;
  std::size_t size() const { return values_.size() - head_; }

 private:
  // Decreasing values from head_ on; a vector (no allocation until the first
  // value) rather than a deque, whose first block costs ~600 bytes: four per
  // block device.
  std::vector<std::pair<Clock::time_point, double>> values_;
  std::size_t head_ = 0;
};

namespace peaks_detail {
struct DiskCounters {
  std::uint64_t reads = 0, writes = 0, sectors_read = 0, sectors_written = 0;
};
struct DiskSeries {
  DiskCounters last;
  SlidingMax read_iops, write_iops, read_bps, write_bps;
};
struct SwapSeries {
  std::uint64_t last_in = 0, last_out = 0;
  SlidingMax in, out;
};
}  // namespace peaks_detail

class PeakTracker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PeakTracker(std::chrono::milliseconds window) : window_(window) {}

  void set_window(std::chrono::milliseconds window) { window_ = window; }
  // Forget all history (roots changed: counters are from another host).
  void reset();

  void add(Clock::time_point t, const DiskStats* disks, const VmStat* vmstat);

  std::vector<DiskPeak> disk_peaks() const;  // sorted by device
  std::optional<SwapPeak> swap_peak() const;

 private:
  std::chrono::milliseconds window_;
  std::optional<Clock::time_point> prev_time_;
  using DiskCounters = peaks_detail::DiskCounters;
  using DiskSeries = peaks_detail::DiskSeries;
  using SwapSeries = peaks_detail::SwapSeries;
  std::unordered_map<std::string, DiskSeries> disks_;
  std::optional<SwapSeries> swap_;
};

// What the peaks post-sample step puts in the snapshot: absent until two
// samples exist (and, for disks, while no device has two).
inline constexpr ReadingKey<std::vector<DiskPeak>> kDiskPeaks{"disk_peaks"};  // sorted by device
inline constexpr ReadingKey<SwapPeak> kSwapPeak{"swap_peak"};

// The registration entry (probes/registry.h): feeds each sample's diskstats
// and vmstat counters to a PeakTracker whose window is peak_window.
extern const PostSampleRegistration kPeaksStep;

}  // namespace tierscope
