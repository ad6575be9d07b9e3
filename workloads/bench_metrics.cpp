#include "workloads/bench_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tierscope::workloads {

namespace {
constexpr std::int64_t kWindowTicks = 50;  // 5 s of 100 ms ticks

std::int64_t tick(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() / 100;
}
}  // namespace

BenchMetrics::BenchMetrics() {
  // TTFT: 5 ms .. 120 s; ITL: 0.5 ms .. 5 s.
  ttft_.bounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60, 120};
  itl_.bounds = {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5};
  ttft_.counts.assign(ttft_.bounds.size() + 1, 0);
  itl_.counts.assign(itl_.bounds.size() + 1, 0);
}

void BenchMetrics::Histogram::observe(double v) {
  auto it = std::lower_bound(bounds.begin(), bounds.end(), v);
  ++counts[static_cast<std::size_t>(it - bounds.begin())];
  ++count;
  sum += v;
}

void BenchMetrics::stream_ended(Outcome o) {
  active_.fetch_sub(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < kAllOutcomes.size(); ++i)
    if (kAllOutcomes[i] == o) outcomes_[i].fetch_add(1, std::memory_order_relaxed);
}

void BenchMetrics::observe_ttft(double seconds) {
  std::lock_guard lock(mu_);
  ttft_.observe(seconds);
}

void BenchMetrics::observe_itl(double seconds) {
  std::lock_guard lock(mu_);
  itl_.observe(seconds);
}

void BenchMetrics::add_tokens(std::uint64_t n, std::chrono::steady_clock::time_point t) {
  const auto k = tick(t);
  std::lock_guard lock(mu_);
  if (!per_100ms_.empty() && per_100ms_.back().first == k) per_100ms_.back().second += n;
  else per_100ms_.emplace_back(k, n);
  while (!per_100ms_.empty() && per_100ms_.front().first <= k - kWindowTicks) per_100ms_.pop_front();
}

double BenchMetrics::output_tokens_per_second(std::chrono::steady_clock::time_point now) const {
  const auto k = tick(now);
  std::lock_guard lock(mu_);
  std::uint64_t sum = 0;
  for (const auto& [t, n] : per_100ms_)
    if (t > k - kWindowTicks) sum += n;
  return static_cast<double>(sum) / (static_cast<double>(kWindowTicks) / 10.0);
}

void BenchMetrics::set_cost(std::string_view basis, double usd) {
  if (!std::isfinite(usd)) return;
  std::lock_guard lock(mu_);
  auto it = cost_.find(basis);
  if (it == cost_.end()) cost_.emplace(std::string(basis), usd);
  else it->second = std::max(it->second, usd);
}

void BenchMetrics::set_cost_info(std::string_view basis, std::string name) {
  std::lock_guard lock(mu_);
  cost_info_[std::string(basis)] = std::move(name);
}

void BenchMetrics::set_ab(std::string name_a, std::string name_b) {
  std::lock_guard lock(mu_);
  arm_names_ = {std::move(name_a), std::move(name_b)};
}

void BenchMetrics::set_ab_block(std::size_t arm, std::uint32_t block) {
  ab_arm_.store(static_cast<std::int64_t>(arm));
  ab_block_.store(block);
}

std::vector<prometheus::MetricFamily> BenchMetrics::Collect() const {
  MetricWriter w;
  {
    std::lock_guard lock(mu_);
    for (const auto& [basis, usd] : cost_) w.add(metric::bench_cost, usd, {{"basis", basis}});
    for (const auto& [basis, name] : cost_info_) w.add(metric::bench_cost_info, 1, {{"basis", basis}, {"name", name}});
  }
  w.add(metric::bench_active_streams, static_cast<double>(active_.load()));
  for (std::size_t i = 0; i < kAllOutcomes.size(); ++i)
    w.add(metric::bench_requests, static_cast<double>(outcomes_[i].load()),
          {{"outcome", std::string(to_string(kAllOutcomes[i]))}});
  w.add(metric::bench_output_rate, output_tokens_per_second(std::chrono::steady_clock::now()));
  if (auto c = context_tokens_.load(); c >= 0) w.add(metric::bench_step_context, static_cast<double>(c));
  if (auto u = users_.load(); u >= 0) w.add(metric::bench_step_users, static_cast<double>(u));
  std::lock_guard lock(mu_);
  if (auto b = ab_block_.load(); b >= 0 && arm_names_.size() == 2) {
    const auto running = ab_arm_.load();
    for (std::int64_t i = 0; i < 2; ++i)
      w.add(metric::bench_arm_info, running == i ? 1.0 : 0.0,
            {{"arm", i == 0 ? "a" : "b"}, {"name", arm_names_[static_cast<std::size_t>(i)]}});
    w.add(metric::bench_ab_block, static_cast<double>(b));
  }
  auto families = std::move(w).finish();
  for (const auto* pair : {&metric::bench_ttft, &metric::bench_itl}) {
    const Histogram& h = pair == &metric::bench_ttft ? ttft_ : itl_;
    prometheus::MetricFamily f;
    f.name = std::string(pair->name);
    f.help = std::string(pair->help);
    f.type = prometheus::MetricType::Histogram;
    prometheus::ClientMetric m;
    m.histogram.sample_count = h.count;
    m.histogram.sample_sum = h.sum;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += h.counts[i];
      m.histogram.bucket.push_back({cumulative, h.bounds[i]});
    }
    m.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
    f.metric.push_back(std::move(m));
    families.push_back(std::move(f));
  }
  return families;
}

}  // namespace tierscope::workloads
