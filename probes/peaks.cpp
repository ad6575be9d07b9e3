#include "probes/peaks.h"

#include <algorithm>

#include "core/metric_catalog.h"
#include "probes/sampler_config.h"

namespace tierscope {

void SlidingMax::add(Clock::time_point end, double value) {
  while (values_.size() > head_ && values_.back().second <= value) values_.pop_back();
  values_.emplace_back(end, value);
}

void SlidingMax::expire(Clock::time_point cutoff) {
  while (head_ < values_.size() && values_[head_].first <= cutoff) ++head_;
  // Drop the expired prefix once it is the larger part (amortized O(1)).
  if (head_ > 0 && 2 * head_ >= values_.size()) {
    values_.erase(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

std::optional<double> SlidingMax::max() const {
  if (head_ == values_.size()) return std::nullopt;
  return values_[head_].second;
}

void PeakTracker::reset() {
  prev_time_.reset();
  disks_.clear();
  swap_.reset();
}

void PeakTracker::add(Clock::time_point t, const DiskStats* disks, const VmStat* vmstat) {
  std::optional<double> dt;
  if (prev_time_ && t > *prev_time_) dt = std::chrono::duration<double>(t - *prev_time_).count();
  prev_time_ = t;
  const Clock::time_point cutoff = t - window_;

  std::unordered_map<std::string, peaks_detail::DiskSeries> seen;
  if (disks) {
    for (const auto& d : disks->devices) {
      auto reads = d.get(DiskStat::reads_completed), writes = d.get(DiskStat::writes_completed);
      auto sr = d.get(DiskStat::sectors_read), sw = d.get(DiskStat::sectors_written);
      if (!reads || !writes || !sr || !sw) continue;
      const peaks_detail::DiskCounters now{*reads, *writes, *sr, *sw};
      auto node = disks_.extract(d.name);
      peaks_detail::DiskSeries series = node.empty() ? peaks_detail::DiskSeries{} : std::move(node.mapped());
      const peaks_detail::DiskCounters& p = series.last;
      bool monotonic = now.reads >= p.reads && now.writes >= p.writes && now.sectors_read >= p.sectors_read &&
                       now.sectors_written >= p.sectors_written;
      if (dt && !node.empty() && monotonic) {
        series.read_iops.add(t, static_cast<double>(now.reads - p.reads) / *dt);
        series.write_iops.add(t, static_cast<double>(now.writes - p.writes) / *dt);
        series.read_bps.add(t, static_cast<double>(now.sectors_read - p.sectors_read) * 512 / *dt);
        series.write_bps.add(t, static_cast<double>(now.sectors_written - p.sectors_written) * 512 / *dt);
      }
      for (SlidingMax* m : {&series.read_iops, &series.write_iops, &series.read_bps, &series.write_bps})
        m->expire(cutoff);
      series.last = now;
      seen.emplace(d.name, std::move(series));
    }
  }
  disks_ = std::move(seen);  // devices absent from this sample lose their series

  if (vmstat && vmstat->pswpin && vmstat->pswpout) {
    if (swap_ && dt && *vmstat->pswpin >= swap_->last_in && *vmstat->pswpout >= swap_->last_out) {
      swap_->in.add(t, static_cast<double>(*vmstat->pswpin - swap_->last_in) / *dt);
      swap_->out.add(t, static_cast<double>(*vmstat->pswpout - swap_->last_out) / *dt);
    }
    if (!swap_) swap_.emplace();
    swap_->last_in = *vmstat->pswpin;
    swap_->last_out = *vmstat->pswpout;
    swap_->in.expire(cutoff);
    swap_->out.expire(cutoff);
  } else {
    swap_.reset();
  }
}

std::vector<DiskPeak> PeakTracker::disk_peaks() const {
  std::vector<DiskPeak> out;
  for (const auto& [name, s] : disks_) {
    auto ri = s.read_iops.max(), wi = s.write_iops.max(), rb = s.read_bps.max(), wb = s.write_bps.max();
    if (!ri || !wi || !rb || !wb) continue;  // no interval within the window yet
    out.push_back({name, *ri, *wi, *rb, *wb});
  }
  std::sort(out.begin(), out.end(), [](const DiskPeak& a, const DiskPeak& b) { return a.device < b.device; });
  return out;
}

std::optional<SwapPeak> PeakTracker::swap_peak() const {
  if (!swap_) return std::nullopt;
  auto in = swap_->in.max(), out = swap_->out.max();
  if (!in || !out) return std::nullopt;
  return SwapPeak{*in, *out};
}

namespace {

class PeaksStep final : public PostSampleStep {
 public:
  void configure(const SamplerConfig& config) override { peaks_.set_window(config.peak_window); }
  void reset() override { peaks_.reset(); }
  void run(Snapshot& snap, Logger&) override {
    peaks_.add(snap.taken_steady, snap.get(kDiskstats), snap.get(kVmstat));
    if (auto disks = peaks_.disk_peaks(); !disks.empty()) snap.put(kDiskPeaks, std::move(disks));
    if (auto swap = peaks_.swap_peak()) snap.put(kSwapPeak, *swap);
  }

 private:
  PeakTracker peaks_{std::chrono::milliseconds(15'000)};
};

void render_peaks(const Snapshot& snap, MetricWriter& w) {
  if (const auto* disks = snap.get(kDiskPeaks))
    for (const auto& p : *disks) {
      w.add(metric::disk_iops_peak, p.read_iops, {{"device", p.device}, {"op", "read"}});
      w.add(metric::disk_iops_peak, p.write_iops, {{"device", p.device}, {"op", "write"}});
      w.add(metric::disk_throughput_peak, p.read_bytes_per_second, {{"device", p.device}, {"op", "read"}});
      w.add(metric::disk_throughput_peak, p.write_bytes_per_second, {{"device", p.device}, {"op", "write"}});
    }
  if (const auto* swap = snap.get(kSwapPeak)) {
    w.add(metric::swap_peak, swap->in_pages_per_second, {{"direction", "in"}});
    w.add(metric::swap_peak, swap->out_pages_per_second, {{"direction", "out"}});
  }
}

}  // namespace

constinit const PostSampleRegistration kPeaksStep{
    .name = "peaks",
    .make = []() -> std::unique_ptr<PostSampleStep> { return std::make_unique<PeaksStep>(); },
    .render = render_peaks,
};

}  // namespace tierscope
