#include "workloads/soak_metrics.h"

namespace tierscope::workloads {

void SoakMetrics::set_series(std::vector<SeriesState> series, std::map<std::string, double> time_to_oom_by_subject) {
  std::lock_guard lock(mu_);
  series_ = std::move(series);
  time_to_oom_ = std::move(time_to_oom_by_subject);
}

std::vector<prometheus::MetricFamily> SoakMetrics::Collect() const {
  MetricWriter w;
  w.add(metric::soak_elapsed, elapsed_.load(std::memory_order_relaxed));
  w.add(metric::soak_duration, duration_.load(std::memory_order_relaxed));
  w.add(metric::soak_gap_seconds, gap_.load(std::memory_order_relaxed));
  w.add(metric::soak_engine_restarts, static_cast<double>(restarts_.load(std::memory_order_relaxed)));
  w.add(metric::soak_requests_ok, static_cast<double>(requests_.load(std::memory_order_relaxed)));
  w.add(metric::soak_output_tokens, static_cast<double>(tokens_.load(std::memory_order_relaxed)));
  std::lock_guard lock(mu_);
  for (const auto& s : series_) {
    if (s.slope_per_hour) w.add(metric::soak_slope, *s.slope_per_hour, {{"subject", s.subject}, {"tier", s.tier}});
    for (const char* v : kSoakVerdictNames)
      w.add(metric::soak_verdict, s.verdict == v ? 1.0 : 0.0, {{"subject", s.subject}, {"tier", s.tier}, {"verdict", v}});
  }
  for (const auto& [subject, seconds] : time_to_oom_) w.add(metric::soak_time_to_oom, seconds, {{"subject", subject}});
  return std::move(w).finish();
}

}  // namespace tierscope::workloads
