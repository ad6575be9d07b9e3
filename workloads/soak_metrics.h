#pragma once
// Live metrics of a running `tierscope soak` (scenario key `listen`), served
// beside the bench's metrics of its load and the recorder's counters. The
// soak's threads set them; Collect() runs on the server's thread: the scalars
// are atomics, the per-series verdicts sit behind a mutex.

#include <prometheus/collectable.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/metric_writer.h"

namespace tierscope::metric {
using prometheus::MetricType;
inline constexpr MetricDef soak_slope{"tierscope_soak_slope_bytes_per_hour",
    "Theil-Sen slope of a soak subject's tier over the sampled run time so far (gaps excluded), from the "
    "subject's memory readings (/proc/<pid>/smaps_rollup or status, the cgroup's memory.stat, GPU process "
    "lists): bytes per hour; for the count tiers fds and threads, count per hour.", MetricType::Gauge};
inline constexpr MetricDef soak_verdict{"tierscope_soak_verdict",
    "Leak verdict so far of a soak subject's tier: 1 for the current verdict (LEAK, BOUNDED-GROWTH, CLEAN, "
    "INCONCLUSIVE), 0 for the others; updated at every checkpoint.", MetricType::Gauge};
inline constexpr MetricDef soak_time_to_oom{"tierscope_soak_time_to_oom_seconds",
    "Estimated time until a soak subject runs out of memory: headroom (cgroup memory.max minus current, else "
    "MemAvailable + SwapFree of /proc/meminfo) divided by the anon+swap slope; absent while it does not grow, "
    "seconds.", MetricType::Gauge};
inline constexpr MetricDef soak_elapsed{"tierscope_soak_elapsed_seconds",
    "Sampled run time of the soak so far, gaps (the soak not running) excluded, seconds.", MetricType::Gauge};
inline constexpr MetricDef soak_duration{"tierscope_soak_duration_seconds",
    "Planned run time of the soak (scenario duration, idle tail included), seconds.", MetricType::Gauge};
inline constexpr MetricDef soak_gap_seconds{"tierscope_soak_gap_seconds_total",
    "Wall-clock time during which the soak did not run (between a stop and its resumption), seconds.",
    MetricType::Counter};
inline constexpr MetricDef soak_engine_restarts{"tierscope_soak_engine_restarts_total",
    "Launched engine restarts by the soak after the engine died (engine_down or oom).", MetricType::Counter};
inline constexpr MetricDef soak_requests_ok{"tierscope_soak_requests_ok_total",
    "Requests of the soak's load that completed with outcome ok, over the whole run (resumptions included).",
    MetricType::Counter};
inline constexpr MetricDef soak_output_tokens{"tierscope_soak_output_tokens_total",
    "Output tokens the soak's load received (content-carrying chunks of ok requests), over the whole run "
    "(resumptions included), tokens.", MetricType::Counter};
// Every live soak metric above (grafana/lib/metrics.json is generated from it).
inline constexpr const MetricDef* kSoakCatalog[] = {&soak_slope,           &soak_verdict,       &soak_time_to_oom,
                                                    &soak_elapsed,         &soak_duration,      &soak_gap_seconds,
                                                    &soak_engine_restarts, &soak_requests_ok,   &soak_output_tokens};
}  // namespace tierscope::metric

namespace tierscope::workloads {

class SoakMetrics final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;

  // One subject's tier as of the last checkpoint; verdict as to_string(Verdict).
  struct SeriesState {
    std::string subject, tier, verdict;
    std::optional<double> slope_per_hour;
  };
  void set_series(std::vector<SeriesState> series, std::map<std::string, double> time_to_oom_by_subject);

  void set_elapsed(double seconds) { elapsed_.store(seconds, std::memory_order_relaxed); }
  void set_duration(double seconds) { duration_.store(seconds, std::memory_order_relaxed); }
  void set_gap_seconds(double seconds) { gap_.store(seconds, std::memory_order_relaxed); }
  void set_restarts(std::uint64_t n) { restarts_.store(n, std::memory_order_relaxed); }
  void set_work(std::uint64_t requests_ok, std::uint64_t output_tokens) {
    requests_.store(requests_ok, std::memory_order_relaxed);
    tokens_.store(output_tokens, std::memory_order_relaxed);
  }

 private:
  std::atomic<double> elapsed_{0}, duration_{0}, gap_{0};
  std::atomic<std::uint64_t> restarts_{0}, requests_{0}, tokens_{0};
  mutable std::mutex mu_;
  std::vector<SeriesState> series_;
  std::map<std::string, double> time_to_oom_;
};

// The verdict names tierscope_soak_verdict carries, in order.
inline constexpr const char* kSoakVerdictNames[] = {"LEAK", "BOUNDED-GROWTH", "CLEAN", "INCONCLUSIVE"};

}  // namespace tierscope::workloads
