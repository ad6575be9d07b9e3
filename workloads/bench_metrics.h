#pragma once
// Live metrics of a running `tierscope bench` (scenario key `listen`), served
// with the daemon's HTTP front (exporters/http_server.h). The runner thread
// updates them; Collect() runs on the server's thread: counters and gauges are
// atomics, histograms and the token-rate window sit behind a mutex.

#include <prometheus/collectable.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric_writer.h"
#include "workloads/engine_stream.h"

namespace tierscope::metric {
using prometheus::MetricType;
inline constexpr MetricDef bench_active_streams{"tierscope_bench_active_streams",
    "Requests of tierscope bench in flight now (sent, response not yet complete).", MetricType::Gauge};
inline constexpr MetricDef bench_requests{"tierscope_bench_requests_total",
    "Requests of tierscope bench completed, by outcome (ok, http_error, context_overflow, oom, timeout, "
    "connection_reset, engine_down, truncated, malformed_stream, interrupted); warm-up requests included.", MetricType::Counter};
inline constexpr MetricDef bench_ttft{"tierscope_bench_ttft_seconds",
    "Time to first token of tierscope bench requests: first response chunk carrying generated text minus the "
    "send time (client steady clock), seconds.", MetricType::Histogram};
inline constexpr MetricDef bench_itl{"tierscope_bench_inter_token_latency_seconds",
    "Gaps between consecutive response chunks carrying generated text, as the tierscope bench client received "
    "them (client steady clock), seconds.", MetricType::Histogram};
inline constexpr MetricDef bench_output_rate{"tierscope_bench_output_tokens_per_second",
    "Output tokens received by tierscope bench per second over the last 5 seconds (content-carrying chunks; "
    "one token each), tokens per second.", MetricType::Gauge};
inline constexpr MetricDef bench_step_context{"tierscope_bench_step_context_tokens",
    "Prompt tokens of the running tierscope bench step (context_sweep and concurrency_sweep), tokens.", MetricType::Gauge};
inline constexpr MetricDef bench_step_users{"tierscope_bench_step_users",
    "Concurrent users of the running tierscope bench step, users.", MetricType::Gauge};
inline constexpr MetricDef bench_cost{"tierscope_bench_cost_dollars_total",
    "Cost of the tierscope bench run so far by basis (scenario key cost, prices from its prices file): local_hardware "
    "(amortized purchase per hour × wall time), local_energy (measured RAPL + GPU energy, or system_watts × wall time, "
    "× price per kWh), cloud_gpu (the first chosen instance's price per hour × wall time), api (the first chosen API's "
    "prices × the ok requests' input and output tokens), ssd_wear (offload devices' NVMe bytes written / rated TBW × "
    "purchase price); absent where an input is; US dollars.", MetricType::Counter};
inline constexpr MetricDef bench_cost_info{"tierscope_bench_cost_info",
    "Always 1: which entry of the prices file each basis of tierscope_bench_cost_dollars_total uses (name: the local "
    "hardware, cloud GPU instance, API or SSD).", MetricType::Gauge};
inline constexpr MetricDef bench_arm_info{"tierscope_bench_arm_info",
    "Arms of a tierscope bench A/B run (scenario: ab), by arm (a, b) and name (the scenario's arms.X.name): 1 for "
    "the arm whose block runs now, 0 for the other; absent in other runs.", MetricType::Gauge};
inline constexpr MetricDef bench_ab_block{"tierscope_bench_ab_block",
    "Block of the tierscope bench A/B run (scenario: ab) running now, 0-based in the order of ab.order; absent in "
    "other runs.", MetricType::Gauge};
// Every live bench metric above (grafana/lib/metrics.json is generated from it).
inline constexpr const MetricDef* kBenchCatalog[] = {&bench_active_streams, &bench_requests, &bench_ttft, &bench_itl,
                                                     &bench_output_rate, &bench_step_context, &bench_step_users,
                                                     &bench_cost, &bench_cost_info, &bench_arm_info, &bench_ab_block};
}  // namespace tierscope::metric

namespace tierscope::workloads {

class BenchMetrics final : public prometheus::Collectable {
 public:
  BenchMetrics();
  std::vector<prometheus::MetricFamily> Collect() const override;

  void stream_started() { active_.fetch_add(1, std::memory_order_relaxed); }
  void stream_ended(Outcome o);
  void observe_ttft(double seconds);
  void observe_itl(double seconds);
  void add_tokens(std::uint64_t n, std::chrono::steady_clock::time_point t);
  double output_tokens_per_second(std::chrono::steady_clock::time_point now) const;
  // tierscope_bench_cost_dollars_total{basis}: never decreases (a lower value is ignored).
  void set_cost(std::string_view basis, double usd);
  // tierscope_bench_cost_info{basis,name}.
  void set_cost_info(std::string_view basis, std::string name);
  void set_step(std::int64_t context_tokens, std::int64_t users) {
    context_tokens_.store(context_tokens);
    users_.store(users);
  }
  // scenario: ab: the arms' names (tierscope_bench_arm_info), then the arm
  // (0 = a, 1 = b) and block running now.
  void set_ab(std::string name_a, std::string name_b);
  void set_ab_block(std::size_t arm, std::uint32_t block);

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;  // per bucket (not cumulative), last = +Inf
    std::uint64_t count = 0;
    double sum = 0;
    void observe(double v);
  };
  std::atomic<std::int64_t> active_{0};
  std::array<std::atomic<std::uint64_t>, kAllOutcomes.size()> outcomes_{};
  std::atomic<std::int64_t> context_tokens_{-1}, users_{-1};
  std::atomic<std::int64_t> ab_arm_{-1}, ab_block_{-1};  // -1: none running
  mutable std::mutex mu_;
  std::vector<std::string> arm_names_;  // scenario: ab: a's and b's; empty otherwise
  Histogram ttft_, itl_;
  std::deque<std::pair<std::int64_t, std::uint64_t>> per_100ms_;  // (steady time / 100 ms, tokens)
  std::map<std::string, double, std::less<>> cost_;             // basis → USD so far
  std::map<std::string, std::string, std::less<>> cost_info_;   // basis → name
};

}  // namespace tierscope::workloads
