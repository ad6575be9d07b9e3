#pragma once
// The cost of a bench run's tokens (docs/cost.md): the local machine
// (amortized purchase price and measured energy) beside the same wall time on
// a rented cloud GPU and the API price of the same tokens, with the SSD wear
// of the run as its own line.
//
// Parts: the prices file (config/prices.yaml, read strictly), the pure
// arithmetic (every formula below is hand-checkable), CounterDelta (a
// counter's increase over the run, across resets), and CostMeter, which
// follows the run's host samples (workloads/run_recording.h) and the request
// records and renders summary.json's `cost` and the live
// tierscope_bench_cost_dollars_total.
//
// A figure whose input is missing is absent with the reason, never 0.
// Threading: CostMeter is thread-safe (observe() on the sampler's thread,
// add_tokens() on the runner's, summary() on either); the rest are plain
// values and pure functions.

#include <prometheus/metric_family.h>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tierscope::workloads {

class BenchMetrics;

class PricesError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CloudGpuPrice {
  std::string name;
  double usd_per_hour = 0;  // the whole instance
  std::uint32_t gpus = 0;
  std::string gpu_model;
  double memory_gib = 0;  // GPU memory per GPU
  std::string source, date;
};

struct ApiPrice {
  std::string name;
  double usd_per_1m_input = 0, usd_per_1m_output = 0;
  std::string source, date;
};

struct LocalPrice {
  std::string name;
  double purchase_usd = 0;
  double amortization_years = 0;
  double hours_per_day = 0;  // hours of use per day the purchase is spread over
  double electricity_usd_per_kwh = 0;
  std::optional<double> idle_watts;  // documentation only; not used in a figure
  std::string source, date;
};

struct SsdPrice {
  std::string name;
  std::optional<double> purchase_usd;  // absent: no public price; the user sets it
  double rated_tbw = 0;                // terabytes written (10^12 bytes) of rated endurance
  std::string source, date;
};

struct Prices {
  std::string path;
  std::vector<CloudGpuPrice> cloud_gpu;
  std::vector<ApiPrice> api;
  std::vector<LocalPrice> local;
  std::vector<SsdPrice> ssd;
};

// `file` names the source in messages ("file:line:col: key: what"). Throws PricesError.
Prices parse_prices(std::string_view yaml, const std::string& file);
Prices load_prices(const std::string& path);
// The prices file a scenario without cost.prices uses: /etc/tierscope/prices.yaml,
// else /usr/share/tierscope/prices.yaml, else the source tree's config/prices.yaml;
// "" when none exists.
std::string default_prices_path();

// The scenario key `cost` (docs/benchmarks.md).
struct CostConfig {
  bool enabled = true;
  std::string prices_path;               // as resolved
  std::string local;                     // "" = no local lines
  std::vector<std::string> cloud_gpu;    // as chosen (default: every entry, in file order)
  std::vector<std::string> api;          // as chosen (default: every entry, in file order)
  std::string ssd;                       // "" = no ssd_wear line
  std::optional<double> system_watts;    // whole-system power used instead of measured energy
  std::shared_ptr<const Prices> prices;  // the file as read
};

// --- The arithmetic.
// purchase_usd / (amortization_years × 365 × hours_per_day)
double hardware_usd_per_hour(const LocalPrice& p);
// joules / 3.6e6 (J per kWh) × usd_per_kwh
double energy_usd(double joules, double usd_per_kwh);
// usd_per_hour × seconds / 3600
double hourly_usd(double usd_per_hour, double seconds);
// input_tokens × usd_per_1m_input / 1e6 + output_tokens × usd_per_1m_output / 1e6
double api_usd(const ApiPrice& p, std::uint64_t input_tokens, std::uint64_t output_tokens);
// bytes_written / (rated_tbw × 1e12) × purchase_usd; nullopt without a purchase price
std::optional<double> ssd_wear_usd(const SsdPrice& p, double bytes_written);
// usd / tokens × 1e6; nullopt for 0 tokens
std::optional<double> per_million(double usd, std::uint64_t tokens);

// A counter's increase over a run: the sum of its increments between
// observations; a value below the previous one is a reset (the counter
// restarted from 0, e.g. a driver reload), counted as an increment of the new
// value, as Prometheus's increase() does.
class CounterDelta {
 public:
  void observe(double value);
  bool seen() const { return seen_; }
  double delta() const { return delta_; }
  std::uint32_t resets() const { return resets_; }
  double first() const { return first_; }
  double last() const { return last_; }

 private:
  bool seen_ = false;
  double first_ = 0, last_ = 0, delta_ = 0;
  std::uint32_t resets_ = 0;
};

// The bases of tierscope_bench_cost_dollars_total.
inline constexpr std::string_view kCostBases[] = {"local_hardware", "local_energy", "cloud_gpu", "api", "ssd_wear"};

class CostMeter {
 public:
  // `metrics` (may be null) gets the live counters on every observe().
  CostMeter(CostConfig config, BenchMetrics* metrics);

  // One host sample (exporters' collect_all() of the run's sampler). The first
  // call starts the run's wall time; each one ends it.
  void observe(std::chrono::steady_clock::time_point taken, const std::vector<prometheus::MetricFamily>& families);
  // A counted request that ended ok: its tokens, for the live api counter.
  void add_tokens(std::uint64_t input_tokens, std::uint64_t output_tokens);

  // summary.json `cost` for these tokens (the summary's steps' sums).
  nlohmann::json summary(std::uint64_t input_tokens, std::uint64_t output_tokens) const;

 private:
  struct Energy {
    std::optional<double> joules;      // counted
    nlohmann::json sources;            // per source and series
    std::string absent;                // why joules is absent
  };
  Energy energy_locked() const;
  std::optional<double> ssd_bytes_locked(std::string& absent, nlohmann::json& devices) const;
  double wall_s_locked() const;
  void publish_locked();

  CostConfig config_;
  const LocalPrice* local_ = nullptr;
  const SsdPrice* ssd_ = nullptr;
  std::vector<const CloudGpuPrice*> cloud_;
  std::vector<const ApiPrice*> api_;
  BenchMetrics* metrics_;

  mutable std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> first_, last_;
  std::uint64_t samples_ = 0;
  std::map<std::string, CounterDelta> cpu_zones_, gpus_, nvme_written_;
  std::map<std::string, std::string> gpu_kind_;  // gpu id → "apu" (AMD unified: includes the CPU) | "gpu"
  std::map<std::string, std::string> offload_;   // controller → device (tierscope_offload_device_info)
  std::uint64_t live_input_ = 0, live_output_ = 0;
};

// The console lines of summary.json's `cost` (after the step table).
void print_cost(std::ostream& os, const nlohmann::json& cost);

}  // namespace tierscope::workloads
