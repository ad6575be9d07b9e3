#include "daemon/peaks.h"

#include <algorithm>
#include <map>

namespace tierscope {

void PeakTracker::reset() {
  intervals_.clear();
  prev_time_.reset();
  prev_disks_.clear();
  prev_swap_.reset();
}

void PeakTracker::add(Clock::time_point t, const DiskStats* disks, const VmStat* vmstat) {
  std::optional<double> dt;
  if (prev_time_ && t > *prev_time_) dt = std::chrono::duration<double>(t - *prev_time_).count();

  Interval iv{t, {}, std::nullopt};
  std::unordered_map<std::string, DiskCounters> now_disks;
  if (disks) {
    for (const auto& d : disks->devices) {
      auto reads = d.get(DiskStat::reads_completed), writes = d.get(DiskStat::writes_completed);
      auto sr = d.get(DiskStat::sectors_read), sw = d.get(DiskStat::sectors_written);
      if (!reads || !writes || !sr || !sw) continue;
      DiskCounters c{*reads, *writes, *sr, *sw};
      now_disks.emplace(d.name, c);
      auto prev = prev_disks_.find(d.name);
      if (!dt || prev == prev_disks_.end()) continue;
      const auto& p = prev->second;
      if (c.reads < p.reads || c.writes < p.writes || c.sectors_read < p.sectors_read ||
          c.sectors_written < p.sectors_written)
        continue;
      iv.disks.push_back({d.name, static_cast<double>(c.reads - p.reads) / *dt,
                          static_cast<double>(c.writes - p.writes) / *dt,
                          static_cast<double>(c.sectors_read - p.sectors_read) * 512 / *dt,
                          static_cast<double>(c.sectors_written - p.sectors_written) * 512 / *dt});
    }
  }
  std::optional<std::pair<std::uint64_t, std::uint64_t>> now_swap;
  if (vmstat && vmstat->pswpin && vmstat->pswpout) {
    now_swap.emplace(*vmstat->pswpin, *vmstat->pswpout);
    if (dt && prev_swap_ && now_swap->first >= prev_swap_->first && now_swap->second >= prev_swap_->second)
      iv.swap = SwapPeak{static_cast<double>(now_swap->first - prev_swap_->first) / *dt,
                         static_cast<double>(now_swap->second - prev_swap_->second) / *dt};
  }
  prev_time_ = t;
  prev_disks_ = std::move(now_disks);
  prev_swap_ = now_swap;
  if (dt) intervals_.push_back(std::move(iv));
  while (!intervals_.empty() && t - intervals_.front().end >= window_) intervals_.pop_front();
}

std::vector<DiskPeak> PeakTracker::disk_peaks() const {
  std::map<std::string, DiskPeak> peaks;
  for (const auto& iv : intervals_) {
    for (const auto& d : iv.disks) {
      if (!prev_disks_.contains(d.device)) continue;  // gone since: no series for it
      auto [it, inserted] = peaks.try_emplace(d.device, d);
      if (inserted) continue;
      auto& p = it->second;
      p.read_iops = std::max(p.read_iops, d.read_iops);
      p.write_iops = std::max(p.write_iops, d.write_iops);
      p.read_bytes_per_second = std::max(p.read_bytes_per_second, d.read_bytes_per_second);
      p.write_bytes_per_second = std::max(p.write_bytes_per_second, d.write_bytes_per_second);
    }
  }
  std::vector<DiskPeak> out;
  out.reserve(peaks.size());
  for (auto& [name, p] : peaks) out.push_back(std::move(p));
  return out;
}

std::optional<SwapPeak> PeakTracker::swap_peak() const {
  std::optional<SwapPeak> peak;
  for (const auto& iv : intervals_) {
    if (!iv.swap) continue;
    if (!peak) {
      peak = iv.swap;
    } else {
      peak->in_pages_per_second = std::max(peak->in_pages_per_second, iv.swap->in_pages_per_second);
      peak->out_pages_per_second = std::max(peak->out_pages_per_second, iv.swap->out_pages_per_second);
    }
  }
  return peak;
}

}  // namespace tierscope
