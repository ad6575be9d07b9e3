// The cost of a run (workloads/cost.h): every formula against a hand
// computation written beside it, counter resets, the energy rule (RAPL zones,
// an AMD APU's GPU energy that includes the CPU), absent inputs giving absent
// lines with a reason, the live counters, the prices file's strict parser and
// the scenario key `cost`.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/metric_writer.h"
#include "test_util.h"
#include "workloads/bench_metrics.h"
#include "workloads/cost.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;
using tierscope::MetricWriter;
using tierscope::testing::TempDir;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

LocalPrice spark() {
  LocalPrice l;
  l.name = "spark";
  l.purchase_usd = 3999;
  l.amortization_years = 3;
  l.hours_per_day = 8;
  l.electricity_usd_per_kwh = 0.30;
  l.source = "s";
  l.date = "d";
  return l;
}

ApiPrice gpt() { return ApiPrice{"gpt", 2.50, 10.00, "s", "d"}; }

Prices test_prices() {
  Prices p;
  p.path = "test-prices.yaml";
  p.local = {spark()};
  p.cloud_gpu = {CloudGpuPrice{"h100", 3.78, 1, "H100", 80, "s", "d"}, CloudGpuPrice{"a100", 2.00, 1, "A100", 80, "s", "d"}};
  p.api = {gpt()};
  p.ssd = {SsdPrice{"drive", 400.0, 219000, "s", "d"}, SsdPrice{"unpriced", std::nullopt, 1000, "s", "d"}};
  return p;
}

CostConfig config(std::string ssd = "drive") {
  CostConfig c;
  c.prices_path = "test-prices.yaml";
  c.local = "spark";
  c.cloud_gpu = {"h100", "a100"};
  c.api = {"gpt"};
  c.ssd = std::move(ssd);
  c.prices = std::make_shared<const Prices>(test_prices());
  return c;
}

// One host sample: series name → (labels, value).
struct Series {
  std::string name;
  tierscope::Labels labels;
  double value;
  prometheus::MetricType type = prometheus::MetricType::Counter;
};
std::vector<prometheus::MetricFamily> sample(const std::vector<Series>& series) {
  MetricWriter w;
  for (const auto& s : series) w.add(s.name, "help", s.type, s.value, s.labels);
  return std::move(w).finish();
}
Series cpu(const std::string& zone, double joules) { return {"tierscope_cpu_energy_joules_total", {{"zone", zone}}, joules}; }
Series gpu(const std::string& id, double joules) { return {"tierscope_gpu_energy_joules_total", {{"gpu", id}}, joules}; }

const Clock::time_point t0 = Clock::time_point{} + std::chrono::seconds(1000);
const Clock::time_point t_2h = t0 + std::chrono::hours(2);

double collected(const BenchMetrics& m, const std::string& name, const std::string& label, const std::string& value) {
  for (const auto& f : m.Collect())
    if (f.name == name)
      for (const auto& metric : f.metric)
        for (const auto& l : metric.label)
          if (l.name == label && l.value == value) return f.type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value;
  return NAN;
}

}  // namespace

TEST(CostArithmetic, HardwarePerHourAmortizesThePurchase) {
  // $3999 / (3 years × 365 days × 8 h) = 3999 / 8760 = 0.456506849… $/h;
  // 2 h of it = 0.913013698… $.
  EXPECT_NEAR(hardware_usd_per_hour(spark()), 0.4565068493, 1e-9);
  EXPECT_NEAR(hourly_usd(hardware_usd_per_hour(spark()), 7200), 0.9130136986, 1e-9);
}

TEST(CostArithmetic, EnergyIsJoulesOverKwhTimesPrice) {
  // 3.6 MJ = 1 kWh; at $0.30/kWh: $0.30. 720 kJ (100 W for 2 h) = 0.2 kWh: $0.06.
  EXPECT_DOUBLE_EQ(energy_usd(3.6e6, 0.30), 0.30);
  EXPECT_NEAR(energy_usd(100.0 * 7200, 0.30), 0.06, 1e-12);
  EXPECT_EQ(energy_usd(0, 0.30), 0);
}

TEST(CostArithmetic, ApiPricesInputAndOutputTokens) {
  // 1000 input × $2.50/1M = $0.0025; 500 output × $10/1M = $0.005; $0.0075 in
  // all, $15 per 1M output tokens, $5 per 1M total (1500) tokens.
  const double usd = api_usd(gpt(), 1000, 500);
  EXPECT_NEAR(usd, 0.0075, 1e-12);
  EXPECT_NEAR(*per_million(usd, 500), 15.0, 1e-9);
  EXPECT_NEAR(*per_million(usd, 1500), 5.0, 1e-9);
  EXPECT_FALSE(per_million(usd, 0));  // no tokens: no figure, not infinity
}

TEST(CostArithmetic, SsdWearIsTheShareOfRatedEndurance) {
  // 1 TB written of 219 000 TBW on a $400 drive: 400 / 219000 = $0.0018264840…
  SsdPrice s{"drive", 400.0, 219000, "s", "d"};
  EXPECT_NEAR(*ssd_wear_usd(s, 1e12), 0.001826484018, 1e-12);
  s.purchase_usd.reset();
  EXPECT_FALSE(ssd_wear_usd(s, 1e12));  // no price: absent, never 0
}

TEST(CounterDelta, SumsIncrementsAcrossAReset) {
  CounterDelta d;
  EXPECT_FALSE(d.seen());
  d.observe(10);
  d.observe(15);   // +5
  d.observe(3);    // reset: +3 (from 0)
  d.observe(8);    // +5
  d.observe(NAN);  // ignored
  EXPECT_TRUE(d.seen());
  EXPECT_DOUBLE_EQ(d.delta(), 13);
  EXPECT_EQ(d.resets(), 1u);
  EXPECT_DOUBLE_EQ(d.first(), 10);
  EXPECT_DOUBLE_EQ(d.last(), 8);
}

TEST(CostMeter, MeasuredRunOfTwoHours) {
  BenchMetrics live;
  CostMeter m(config(), &live);
  // package-0 +2.7 MJ, dram +0.9 MJ (counted: 3.6 MJ = 1 kWh); core +1 MJ is
  // part of the package and not counted.
  m.observe(t0, sample({cpu("package-0", 1000), cpu("dram", 50), cpu("core", 0)}));
  m.observe(t0 + std::chrono::hours(1), sample({cpu("package-0", 1000 + 1.35e6), cpu("dram", 50 + 0.45e6), cpu("core", 0.5e6)}));
  m.observe(t_2h, sample({cpu("package-0", 1000 + 2.7e6), cpu("dram", 50 + 0.9e6), cpu("core", 1e6)}));
  const json c = m.summary(1000, 500);
  EXPECT_DOUBLE_EQ(c["wall_s"].get<double>(), 7200);
  EXPECT_EQ(c["samples"], 3);
  EXPECT_EQ(c["energy"]["method"], "measured");
  EXPECT_NEAR(c["energy"]["joules"].get<double>(), 3.6e6, 1e-6);
  EXPECT_EQ(c["energy"]["sources"]["cpu"]["zones"]["core"]["counted"], false);
  EXPECT_EQ(c["energy"]["sources"]["cpu"]["zones"]["package-0"]["counted"], true);
  const json& l = c["lines"];
  // Hardware 0.913013698… (above); energy 1 kWh × $0.30 = $0.30; total 1.213013698…
  EXPECT_NEAR(l["local_hardware"]["usd"].get<double>(), 0.9130136986, 1e-9);
  EXPECT_NEAR(l["local_energy"]["usd"].get<double>(), 0.30, 1e-9);
  EXPECT_NEAR(l["local_total"]["usd"].get<double>(), 1.2130136986, 1e-9);
  // Per 1M output tokens: 1.2130136986 / 500 × 1e6 = 2426.027397…; per 1M total (1500): 808.675799…
  EXPECT_NEAR(l["local_total"]["usd_per_1m_output_tokens"].get<double>(), 2426.027397, 1e-5);
  EXPECT_NEAR(l["local_total"]["usd_per_1m_total_tokens"].get<double>(), 808.675799, 1e-5);
  // Cloud: $3.78/h × 2 h = $7.56 → $15 120 per 1M output tokens; $2/h × 2 h = $4.
  EXPECT_NEAR(l["cloud_gpu"]["h100"]["usd"].get<double>(), 7.56, 1e-9);
  EXPECT_NEAR(l["cloud_gpu"]["h100"]["usd_per_1m_output_tokens"].get<double>(), 15120, 1e-6);
  EXPECT_NEAR(l["cloud_gpu"]["a100"]["usd"].get<double>(), 4.0, 1e-9);
  // API: $0.0075 (above) → $15 per 1M output tokens.
  EXPECT_NEAR(l["api"]["gpt"]["usd"].get<double>(), 0.0075, 1e-12);
  EXPECT_NEAR(l["api"]["gpt"]["usd_per_1m_output_tokens"].get<double>(), 15, 1e-9);
  // Every input with its source and date.
  EXPECT_EQ(c["inputs"]["local"]["purchase_usd"], 3999);
  EXPECT_EQ(c["inputs"]["cloud_gpu"]["h100"]["source"], "s");
  EXPECT_EQ(c["inputs"]["api"]["gpt"]["date"], "d");
  // No offload device seen: the SSD line is absent, with the reason.
  EXPECT_FALSE(l.contains("ssd_wear"));
  EXPECT_NE(c["absent"]["ssd_wear"].get<std::string>().find("no offload device"), std::string::npos);
  // Live: the same figures by basis; the first chosen cloud instance and API.
  EXPECT_NEAR(collected(live, "tierscope_bench_cost_dollars_total", "basis", "local_hardware"), 0.9130136986, 1e-9);
  EXPECT_NEAR(collected(live, "tierscope_bench_cost_dollars_total", "basis", "local_energy"), 0.30, 1e-9);
  EXPECT_NEAR(collected(live, "tierscope_bench_cost_dollars_total", "basis", "cloud_gpu"), 7.56, 1e-9);
  EXPECT_EQ(collected(live, "tierscope_bench_cost_info", "name", "h100"), 1);
  EXPECT_TRUE(std::isnan(collected(live, "tierscope_bench_cost_info", "name", "a100")));
  EXPECT_TRUE(std::isnan(collected(live, "tierscope_bench_cost_dollars_total", "basis", "ssd_wear")));
}

TEST(CostMeter, CounterResetDuringTheRunIsNotANegativeCost) {
  CostMeter m(config(), nullptr);
  // 1 MJ, then the counter restarts (driver reload) at 0.5 MJ, then +1 MJ: 2.5 MJ.
  m.observe(t0, sample({gpu("0", 5e6)}));
  m.observe(t0 + std::chrono::seconds(10), sample({gpu("0", 6e6)}));
  m.observe(t0 + std::chrono::seconds(20), sample({gpu("0", 0.5e6)}));
  m.observe(t0 + std::chrono::seconds(30), sample({gpu("0", 1.5e6)}));
  const json c = m.summary(0, 0);
  EXPECT_NEAR(c["energy"]["joules"].get<double>(), 2.5e6, 1e-6);
  EXPECT_EQ(c["energy"]["sources"]["gpu"]["gpus"]["0"]["resets"], 1);
  // 2.5 MJ / 3.6 MJ × $0.30 = $0.208333…; no tokens: no per-1M figures.
  EXPECT_NEAR(c["lines"]["local_energy"]["usd"].get<double>(), 0.2083333333, 1e-9);
  EXPECT_FALSE(c["lines"]["local_energy"].contains("usd_per_1m_output_tokens"));
}

TEST(CostMeter, AmdApuGpuEnergyIncludesTheCpuSoRaplIsNotAdded) {
  CostMeter m(config(), nullptr);
  const Series info{"tierscope_gpu_info", {{"gpu", "0"}, {"vendor", "amd"}, {"memory_model", "unified"}}, 1,
                    prometheus::MetricType::Gauge};
  m.observe(t0, sample({info, gpu("0", 0), cpu("package-0", 0)}));
  m.observe(t_2h, sample({info, gpu("0", 3.6e6), cpu("package-0", 1e6)}));
  const json c = m.summary(10, 10);
  EXPECT_NEAR(c["energy"]["joules"].get<double>(), 3.6e6, 1e-6);  // the APU only, not + 1 MJ
  EXPECT_EQ(c["energy"]["sources"]["cpu"]["zones"]["package-0"]["counted"], false);
  EXPECT_TRUE(c["energy"]["sources"]["cpu"].contains("not_counted"));
  EXPECT_EQ(c["energy"]["sources"]["gpu"]["gpus"]["0"]["includes_cpu"], true);
}

TEST(CostMeter, DiscreteGpuAndCpuPackageAdd) {
  CostMeter m(config(), nullptr);
  const Series info{"tierscope_gpu_info", {{"gpu", "0"}, {"vendor", "nvidia"}, {"memory_model", "discrete"}}, 1,
                    prometheus::MetricType::Gauge};
  m.observe(t0, sample({info, gpu("0", 100), cpu("package-0", 7)}));
  m.observe(t_2h, sample({info, gpu("0", 100 + 2.6e6), cpu("package-0", 7 + 1e6)}));
  EXPECT_NEAR(m.summary(1, 1)["energy"]["joules"].get<double>(), 3.6e6, 1e-6);
}

TEST(CostMeter, NoEnergyCounterMeansNoEnergyLineWithTheReason) {
  BenchMetrics live;
  CostMeter m(config(), &live);
  m.observe(t0, sample({}));
  m.observe(t_2h, sample({}));
  const json c = m.summary(1000, 500);
  EXPECT_TRUE(c["energy"].contains("absent"));
  EXPECT_FALSE(c["lines"].contains("local_energy"));
  EXPECT_FALSE(c["lines"].contains("local_total"));
  EXPECT_NE(c["absent"]["local_energy"].get<std::string>().find("no energy counter"), std::string::npos);
  EXPECT_TRUE(c["lines"].contains("local_hardware"));  // what is known stays
  EXPECT_TRUE(std::isnan(collected(live, "tierscope_bench_cost_dollars_total", "basis", "local_energy")));
}

TEST(CostMeter, SystemWattsReplacesMeasuredEnergy) {
  CostConfig c = config();
  c.system_watts = 100;
  CostMeter m(c, nullptr);
  m.observe(t0, sample({cpu("package-0", 0)}));
  m.observe(t_2h, sample({cpu("package-0", 1e6)}));
  const json s = m.summary(1, 1);
  // 100 W × 7200 s = 720 kJ = 0.2 kWh → $0.06; the measured 1 MJ kept beside it.
  EXPECT_EQ(s["energy"]["method"], "system_watts");
  EXPECT_NEAR(s["energy"]["joules"].get<double>(), 720000, 1e-6);
  EXPECT_NEAR(s["energy"]["measured_joules"].get<double>(), 1e6, 1e-6);
  EXPECT_NEAR(s["lines"]["local_energy"]["usd"].get<double>(), 0.06, 1e-12);
}

TEST(CostMeter, SsdWearOfTheOffloadDevicesOnly) {
  BenchMetrics live;
  CostMeter m(config(), &live);
  const Series offload{"tierscope_offload_device_info", {{"device", "nvme0n1"}, {"controller", "nvme0"}, {"role", "swap"}},
                       1, prometheus::MetricType::Gauge};
  auto written = [](const std::string& ctrl, double b) {
    return Series{"tierscope_nvme_data_written_bytes_total", {{"controller", ctrl}}, b};
  };
  m.observe(t0, sample({offload, written("nvme0", 5e12), written("nvme1", 0)}));
  m.observe(t_2h, sample({offload, written("nvme0", 6e12), written("nvme1", 9e12)}));  // nvme1 is not offload
  const json c = m.summary(1, 1);
  // 1 TB / 219 000 TBW × $400 = $0.0018264840…
  EXPECT_NEAR(c["lines"]["ssd_wear"]["bytes_written"].get<double>(), 1e12, 1);
  EXPECT_NEAR(c["lines"]["ssd_wear"]["usd"].get<double>(), 0.001826484018, 1e-12);
  EXPECT_NEAR(collected(live, "tierscope_bench_cost_dollars_total", "basis", "ssd_wear"), 0.001826484018, 1e-12);

  CostMeter unpriced(config("unpriced"), nullptr);
  unpriced.observe(t0, sample({offload, written("nvme0", 0)}));
  unpriced.observe(t_2h, sample({offload, written("nvme0", 1e12)}));
  const json u = unpriced.summary(1, 1);
  EXPECT_FALSE(u["lines"].contains("ssd_wear"));
  EXPECT_NE(u["absent"]["ssd_wear"].get<std::string>().find("no purchase_usd"), std::string::npos);
  EXPECT_TRUE(u["inputs"]["ssd"]["purchase_usd"].is_null());
}

TEST(CostMeter, LiveApiCounterFollowsTheTokens) {
  BenchMetrics live;
  CostMeter m(config(), &live);
  m.observe(t0, sample({}));
  m.add_tokens(1000, 500);
  EXPECT_NEAR(collected(live, "tierscope_bench_cost_dollars_total", "basis", "api"), 0.0075, 1e-12);
  m.add_tokens(1000, 500);
  EXPECT_NEAR(collected(live, "tierscope_bench_cost_dollars_total", "basis", "api"), 0.015, 1e-12);
}

TEST(BenchMetricsCost, CounterNeverDecreases) {
  BenchMetrics live;
  live.set_cost("api", 2);
  live.set_cost("api", 1);
  live.set_cost("api", NAN);
  EXPECT_EQ(collected(live, "tierscope_bench_cost_dollars_total", "basis", "api"), 2);
}

namespace {

const char* kPrices = R"(cloud_gpu:
  h100: {usd_per_hour: 3.78, gpus: 1, gpu_model: H100, memory_gib: 80, source: "https://x/pricing", date: "2026-05-07"}
api:
  gpt: {usd_per_1m_input: 2.5, usd_per_1m_output: 10, source: "https://y/pricing", date: "2026-03"}
local:
  spark: {purchase_usd: 3999, amortization_years: 3, hours_per_day: 8, electricity_usd_per_kwh: 0.3, source: s, date: d}
ssd:
  drive: {purchase_usd: null, rated_tbw: 219000, source: s, date: d}
)";

std::string prices_error(const std::string& yaml) {
  try {
    parse_prices(yaml, "p.yaml");
  } catch (const PricesError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PricesFile, Parses) {
  const Prices p = parse_prices(kPrices, "p.yaml");
  ASSERT_EQ(p.cloud_gpu.size(), 1u);
  EXPECT_EQ(p.cloud_gpu[0].usd_per_hour, 3.78);
  EXPECT_EQ(p.cloud_gpu[0].date, "2026-05-07");
  EXPECT_EQ(p.api[0].usd_per_1m_output, 10);
  EXPECT_EQ(p.local[0].hours_per_day, 8);
  EXPECT_FALSE(p.ssd[0].purchase_usd);
  EXPECT_EQ(p.ssd[0].rated_tbw, 219000);
}

TEST(PricesFile, ErrorsNameFileLineColumnAndKey) {
  std::string yaml = kPrices;
  yaml.replace(yaml.find("usd_per_hour"), 12, "usd_per_hr");
  EXPECT_EQ(prices_error(yaml).rfind("p.yaml:2:", 0), 0u) << prices_error(yaml);
  EXPECT_NE(prices_error(yaml).find("did you mean"), std::string::npos) << prices_error(yaml);
  EXPECT_NE(prices_error(yaml).find("cloud_gpu.h100.usd_per_hr"), std::string::npos) << prices_error(yaml);

  std::string negative = kPrices;
  negative.replace(negative.find("3999"), 4, "-1");
  EXPECT_NE(prices_error(negative).find("local.spark.purchase_usd"), std::string::npos) << prices_error(negative);

  std::string missing = kPrices;
  const std::string cut = ", source: \"https://y/pricing\"";
  missing.replace(missing.find(cut), cut.size(), "");
  EXPECT_NE(prices_error(missing).find("api.gpt.source: missing"), std::string::npos) << prices_error(missing);

  EXPECT_NE(prices_error("cloud_gpus: {}\n").find("did you mean"), std::string::npos);
  EXPECT_NE(prices_error("local:\n  a: {purchase_usd: 1, amortization_years: 3, hours_per_day: 25, "
                         "electricity_usd_per_kwh: 0.1, source: s, date: d}\n")
                .find("hours_per_day"),
            std::string::npos);
  EXPECT_NE(prices_error("api: [1, 2]\n").find("expected a mapping of names"), std::string::npos);
  EXPECT_NE(prices_error("api: {\"bad name\": {}}\n").find("expected a name"), std::string::npos);
  EXPECT_NE(prices_error("a: [").find("p.yaml:"), std::string::npos);
  EXPECT_NE(prices_error("").find("empty prices file"), std::string::npos);
}

TEST(PricesFile, TheShippedFileParsesAndSaysWhereEachPriceComesFrom) {
  const Prices p = load_prices(std::string(TIERSCOPE_SOURCE_DIR) + "/config/prices.yaml");
  EXPECT_GE(p.cloud_gpu.size(), 3u);
  EXPECT_GE(p.api.size(), 3u);
  EXPECT_GE(p.local.size(), 2u);
  EXPECT_GE(p.ssd.size(), 1u);
  for (const auto& c : p.cloud_gpu) EXPECT_NE(c.source.find("https://"), std::string::npos) << c.name;
  for (const auto& a : p.api) EXPECT_NE(a.source.find("https://"), std::string::npos) << a.name;
}

TEST(ScenarioCost, NamesAreCheckedAgainstThePricesFile) {
  TempDir dir;
  dir.write("prices.yaml", kPrices);
  const std::string base = "engine: {kind: llamacpp, url: http://127.0.0.1:8080}\nscenario: context_sweep\ncontexts: [512]\n";
  const std::string file = (dir.path() / "s.yaml").string();
  // A relative prices path is relative to the scenario file; cloud_gpu and api default to every entry.
  Scenario s = parse_scenario(base + "cost: {prices: prices.yaml, local: spark, system_watts: 90}\n", file);
  ASSERT_TRUE(s.cost);
  EXPECT_EQ(s.cost->prices_path, (dir.path() / "prices.yaml").string());
  EXPECT_EQ(s.cost->cloud_gpu, std::vector<std::string>{"h100"});
  EXPECT_EQ(s.cost->api, std::vector<std::string>{"gpt"});
  EXPECT_EQ(*s.cost->system_watts, 90);
  ASSERT_TRUE(s.cost->prices);
  // The scenario as YAML reads back to the same cost.
  Scenario again = parse_scenario(to_yaml(s), file);
  ASSERT_TRUE(again.cost);
  EXPECT_EQ(again.cost->prices_path, s.cost->prices_path);
  EXPECT_EQ(again.cost->local, "spark");
  EXPECT_EQ(again.cost->cloud_gpu, s.cost->cloud_gpu);
  EXPECT_EQ(to_yaml(again), to_yaml(s));
  // An empty list chooses none.
  EXPECT_TRUE(parse_scenario(base + "cost: {prices: prices.yaml, api: []}\n", file).cost->api.empty());

  auto error = [&](const std::string& cost) {
    try {
      parse_scenario(base + cost, file);
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string e1 = error("cost: {prices: prices.yaml, local: sparc}\n");
  EXPECT_NE(e1.find("s.yaml:4:"), std::string::npos) << e1;
  EXPECT_NE(e1.find("cost.local"), std::string::npos) << e1;
  EXPECT_NE(e1.find("did you mean \"spark\""), std::string::npos) << e1;
  const std::string e2 = error("cost: {prices: prices.yaml, api: [gpt, gtp4]}\n");
  EXPECT_NE(e2.find("cost.api"), std::string::npos) << e2;
  EXPECT_NE(e2.find("gtp4"), std::string::npos) << e2;
  EXPECT_NE(error("cost: {prices: nowhere.yaml}\n").find("cannot read the prices file"), std::string::npos);
  EXPECT_NE(error("cost: {prices: prices.yaml, system_watts: 0}\n").find("cost.system_watts"), std::string::npos);
  EXPECT_NE(error("cost: {prices: prices.yaml, sdd: drive}\n").find("did you mean"), std::string::npos);
  dir.write("bad.yaml", "local:\n  spark: {purchase_usd: x}\n");
  const std::string e3 = error("cost: {prices: bad.yaml}\n");
  EXPECT_NE(e3.find("bad.yaml:2:"), std::string::npos) << e3;
  // enabled: false reads no prices file at all.
  EXPECT_FALSE(parse_scenario(base + "cost: {prices: nowhere.yaml, enabled: false}\n", file).cost->enabled);
}
