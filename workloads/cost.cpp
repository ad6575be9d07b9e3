#include "workloads/cost.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "core/text.h"
#include "core/user_file.h"
#include "core/yaml_reader.h"
#include "workloads/bench_metrics.h"

#ifndef TIERSCOPE_TREE_PRICES
#define TIERSCOPE_TREE_PRICES ""
#endif

namespace tierscope::workloads {

using nlohmann::json;

namespace {

constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kBytesPerTb = 1e12;
constexpr double kMaxUsd = 1e9;
constexpr std::size_t kMaxEntries = 1000;

class PricesParser final : public YamlReader {
 public:
  explicit PricesParser(std::string file) : file_(std::move(file)) {}

  // The mapping's entry `key` (its value), or a "missing" error naming `expected`.
  YAML::Node need(const YAML::Node& map, const std::string& path, const char* key, std::string_view expected) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) fail(map.Mark(), path + "." + key, "missing (expected " + std::string(expected) + ")");
    return n;
  }
  std::string text(const YAML::Node& map, const std::string& path, const char* key, std::string_view expected) const {
    const std::string v = scalar(need(map, path, key, expected), path + "." + key, expected);
    if (v.empty()) fail(map[key].Mark(), path + "." + key, "expected " + std::string(expected) + ", got an empty string");
    return v;
  }
  double money(const YAML::Node& map, const std::string& path, const char* key, std::string_view expected) const {
    return number(need(map, path, key, expected), path + "." + key, 0, kMaxUsd, true, expected);
  }

 private:
  std::string origin(const YAML::Mark& mark, std::string_view) const override { return file_position(file_, mark); }
  [[noreturn]] void raise(const std::string& message) const override { throw PricesError(message); }
  std::string file_;
};

constexpr const char* kSourceHelp = "the page the price was read from, e.g. https://…/pricing";
constexpr const char* kDateHelp = "the date the price was read, e.g. 2026-05-07";

// Calls fn(name, path, node) for each entry of a section (a mapping of names to mappings).
template <typename Fn>
void each_entry(const PricesParser& p, const YAML::Node& section, const std::string& path, Fn fn) {
  if (section.IsNull()) return;
  if (!section.IsMap()) p.fail(section.Mark(), path, "expected a mapping of names to entries");
  if (section.size() > kMaxEntries) p.fail(section.Mark(), path, "expected at most " + std::to_string(kMaxEntries) + " entries");
  std::vector<std::string> seen;
  for (auto it = section.begin(); it != section.end(); ++it) {
    if (!it->first.IsScalar()) p.fail(it->first.Mark(), path, "expected a plain name");
    const std::string name = it->first.Scalar();
    const std::string full = path + "." + name;
    const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    });
    if (!ok) p.fail(it->first.Mark(), full, "expected a name of letters, digits, '_', '-' or '.' (at most 64)");
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) p.fail(it->first.Mark(), full, "given twice");
    seen.push_back(name);
    if (!it->second.IsMap()) p.fail(it->second.Mark(), full, "expected a mapping of keys");
    fn(name, full, it->second);
  }
}

}  // namespace

Prices parse_prices(std::string_view yaml, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    std::ostringstream os;
    os << file << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": invalid YAML: " << e.msg;
    throw PricesError(os.str());
  } catch (const YAML::Exception& e) {
    throw PricesError(file + ": invalid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) throw PricesError(file + ": empty prices file (expected cloud_gpu, api, local, ssd)");
  PricesParser p(file);
  Prices out;
  out.path = file;
  try {
    p.each_key(root, "", {"cloud_gpu", "api", "local", "ssd"}, [&](const std::string& key, const std::string& full,
                                                                  const YAML::Node& v) {
      if (key == "cloud_gpu") {
        each_entry(p, v, full, [&](const std::string& name, const std::string& f, const YAML::Node& n) {
          p.each_key(n, f, {"usd_per_hour", "gpus", "gpu_model", "memory_gib", "source", "date"},
                     [](const std::string&, const std::string&, const YAML::Node&) {});
          CloudGpuPrice c;
          c.name = name;
          c.usd_per_hour = p.money(n, f, "usd_per_hour", "the instance's price per hour in USD, > 0");
          c.gpus = p.integer(p.need(n, f, "gpus", "the number of GPUs, 1-1024"), f + ".gpus", 1, 1024);
          c.gpu_model = p.text(n, f, "gpu_model", "the GPU model, e.g. H100 SXM 80GB");
          c.memory_gib = p.number(p.need(n, f, "memory_gib", "GiB of memory per GPU"), f + ".memory_gib", 0, 1e6,
                                  true, "GiB of memory per GPU, > 0");
          c.source = p.text(n, f, "source", kSourceHelp);
          c.date = p.text(n, f, "date", kDateHelp);
          out.cloud_gpu.push_back(std::move(c));
        });
      } else if (key == "api") {
        each_entry(p, v, full, [&](const std::string& name, const std::string& f, const YAML::Node& n) {
          p.each_key(n, f, {"usd_per_1m_input", "usd_per_1m_output", "source", "date"},
                     [](const std::string&, const std::string&, const YAML::Node&) {});
          ApiPrice a;
          a.name = name;
          a.usd_per_1m_input = p.money(n, f, "usd_per_1m_input", "USD per 1M input tokens, > 0");
          a.usd_per_1m_output = p.money(n, f, "usd_per_1m_output", "USD per 1M output tokens, > 0");
          a.source = p.text(n, f, "source", kSourceHelp);
          a.date = p.text(n, f, "date", kDateHelp);
          out.api.push_back(std::move(a));
        });
      } else if (key == "local") {
        each_entry(p, v, full, [&](const std::string& name, const std::string& f, const YAML::Node& n) {
          p.each_key(n, f,
                     {"purchase_usd", "amortization_years", "hours_per_day", "electricity_usd_per_kwh", "idle_watts",
                      "source", "date"},
                     [](const std::string&, const std::string&, const YAML::Node&) {});
          LocalPrice l;
          l.name = name;
          l.purchase_usd = p.money(n, f, "purchase_usd", "the purchase price in USD, > 0");
          l.amortization_years = p.number(p.need(n, f, "amortization_years", "years, 0.01-100"), f + ".amortization_years",
                                          0.01, 100, false, "the years the purchase is spread over, 0.01-100");
          l.hours_per_day = p.number(p.need(n, f, "hours_per_day", "hours, 0.01-24"), f + ".hours_per_day", 0.01,
                                     24, false, "hours of use per day, 0.01-24");
          l.electricity_usd_per_kwh =
              p.number(p.need(n, f, "electricity_usd_per_kwh", "USD per kWh, ≥ 0"), f + ".electricity_usd_per_kwh", 0,
                       100, false, "the electricity price in USD per kWh, ≥ 0");
          if (const YAML::Node w = n["idle_watts"]; w.IsDefined() && !w.IsNull())
            l.idle_watts = p.number(w, f + ".idle_watts", 0, 1e6, false, "watts at idle, ≥ 0");
          l.source = p.text(n, f, "source", kSourceHelp);
          l.date = p.text(n, f, "date", kDateHelp);
          out.local.push_back(std::move(l));
        });
      } else if (key == "ssd") {
        each_entry(p, v, full, [&](const std::string& name, const std::string& f, const YAML::Node& n) {
          p.each_key(n, f, {"purchase_usd", "rated_tbw", "source", "date"},
                     [](const std::string&, const std::string&, const YAML::Node&) {});
          SsdPrice s;
          s.name = name;
          if (const YAML::Node u = n["purchase_usd"]; u.IsDefined() && !u.IsNull())
            s.purchase_usd = p.number(u, f + ".purchase_usd", 0, kMaxUsd, true, "the purchase price in USD, > 0, or null when unknown");
          s.rated_tbw = p.number(p.need(n, f, "rated_tbw", "terabytes written of rated endurance, 0.001-1e9"),
                                 f + ".rated_tbw", 0.001, 1e9, false,
                                 "terabytes written (10^12 bytes) of rated endurance, 0.001-1e9");
          s.source = p.text(n, f, "source", kSourceHelp);
          s.date = p.text(n, f, "date", kDateHelp);
          out.ssd.push_back(std::move(s));
        });
      }
    });
  } catch (const YAML::Exception& e) {
    throw PricesError(file + ": " + e.msg);
  }
  return out;
}

Prices load_prices(const std::string& path) {
  std::string error;
  auto text = read_user_file(path, error);
  if (!text) throw PricesError(path + ": cannot read the prices file: " + error);
  return parse_prices(*text, path);
}

std::string default_prices_path() {
  for (const char* p : {"/etc/tierscope/prices.yaml", "/usr/share/tierscope/prices.yaml", TIERSCOPE_TREE_PRICES}) {
    std::error_code ec;
    if (*p && std::filesystem::is_regular_file(p, ec)) return p;
  }
  return "";
}

// --- The arithmetic.

double hardware_usd_per_hour(const LocalPrice& p) {
  return p.purchase_usd / (p.amortization_years * 365.0 * p.hours_per_day);
}

double energy_usd(double joules, double usd_per_kwh) { return joules / kJoulesPerKwh * usd_per_kwh; }

double hourly_usd(double usd_per_hour, double seconds) { return usd_per_hour * seconds / 3600.0; }

double api_usd(const ApiPrice& p, std::uint64_t input_tokens, std::uint64_t output_tokens) {
  return static_cast<double>(input_tokens) * p.usd_per_1m_input / 1e6 +
         static_cast<double>(output_tokens) * p.usd_per_1m_output / 1e6;
}

std::optional<double> ssd_wear_usd(const SsdPrice& p, double bytes_written) {
  if (!p.purchase_usd) return std::nullopt;
  return bytes_written / (p.rated_tbw * kBytesPerTb) * *p.purchase_usd;
}

std::optional<double> per_million(double usd, std::uint64_t tokens) {
  if (tokens == 0) return std::nullopt;
  return usd / static_cast<double>(tokens) * 1e6;
}

void CounterDelta::observe(double value) {
  if (!std::isfinite(value)) return;
  if (!seen_) {
    seen_ = true;
    first_ = last_ = value;
    return;
  }
  if (value >= last_) {
    delta_ += value - last_;
  } else {
    delta_ += value;  // restarted from 0
    ++resets_;
  }
  last_ = value;
}

// --- CostMeter.

namespace {

template <typename T>
const T* find_named(const std::vector<T>& v, const std::string& name) {
  for (const T& e : v)
    if (e.name == name) return &e;
  return nullptr;
}

std::string label(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label)
    if (l.name == name) return l.value;
  return "";
}

double value_of(const prometheus::MetricFamily& f, const prometheus::ClientMetric& m) {
  switch (f.type) {
    case prometheus::MetricType::Counter: return m.counter.value;
    case prometheus::MetricType::Gauge: return m.gauge.value;
    case prometheus::MetricType::Untyped: return m.untyped.value;
    default: return NAN;
  }
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// RAPL zones counted: the packages and DRAM (core, uncore and gpu are parts of
// a package); psys (the whole platform) only when neither is there.
bool counted_zone(const std::string& zone, bool have_package_or_dram) {
  if (have_package_or_dram) return starts_with(zone, "package") || starts_with(zone, "dram");
  return starts_with(zone, "psys");
}

json delta_json(const CounterDelta& d) {
  return {{"joules", d.delta()}, {"first", d.first()}, {"last", d.last()}, {"resets", d.resets()}};
}

json with_per_million(json line, double usd, std::uint64_t input_tokens, std::uint64_t output_tokens) {
  line["usd"] = usd;
  if (auto v = per_million(usd, output_tokens)) line["usd_per_1m_output_tokens"] = *v;
  if (auto v = per_million(usd, input_tokens + output_tokens)) line["usd_per_1m_total_tokens"] = *v;
  return line;
}

}  // namespace

CostMeter::CostMeter(CostConfig config, BenchMetrics* metrics) : config_(std::move(config)), metrics_(metrics) {
  if (!config_.prices) throw PricesError("cost: no prices file was read");
  const Prices& p = *config_.prices;
  if (!config_.local.empty()) local_ = find_named(p.local, config_.local);
  if (!config_.ssd.empty()) ssd_ = find_named(p.ssd, config_.ssd);
  for (const auto& n : config_.cloud_gpu)
    if (const auto* c = find_named(p.cloud_gpu, n)) cloud_.push_back(c);
  for (const auto& n : config_.api)
    if (const auto* a = find_named(p.api, n)) api_.push_back(a);
  if (metrics_) {
    if (local_) {
      metrics_->set_cost_info("local_hardware", local_->name);
      metrics_->set_cost_info("local_energy", local_->name);
    }
    if (!cloud_.empty()) metrics_->set_cost_info("cloud_gpu", cloud_.front()->name);
    if (!api_.empty()) metrics_->set_cost_info("api", api_.front()->name);
    if (ssd_) metrics_->set_cost_info("ssd_wear", ssd_->name);
  }
}

void CostMeter::observe(std::chrono::steady_clock::time_point taken,
                        const std::vector<prometheus::MetricFamily>& families) {
  std::lock_guard lock(mu_);
  if (!first_) first_ = taken;
  last_ = std::max(*first_, taken);
  ++samples_;
  for (const auto& f : families) {
    if (f.name == "tierscope_cpu_energy_joules_total") {
      for (const auto& m : f.metric) cpu_zones_[label(m, "zone")].observe(value_of(f, m));
    } else if (f.name == "tierscope_gpu_energy_joules_total") {
      for (const auto& m : f.metric) gpus_[label(m, "gpu")].observe(value_of(f, m));
    } else if (f.name == "tierscope_gpu_info") {
      for (const auto& m : f.metric)
        gpu_kind_[label(m, "gpu")] =
            label(m, "vendor") == "amd" && label(m, "memory_model") == "unified" ? "apu" : "gpu";
    } else if (f.name == "tierscope_offload_device_info") {
      for (const auto& m : f.metric)
        if (!label(m, "controller").empty()) offload_[label(m, "controller")] = label(m, "device");
    } else if (f.name == "tierscope_nvme_data_written_bytes_total") {
      for (const auto& m : f.metric) nvme_written_[label(m, "controller")].observe(value_of(f, m));
    }
  }
  publish_locked();
}

void CostMeter::add_tokens(std::uint64_t input_tokens, std::uint64_t output_tokens) {
  std::lock_guard lock(mu_);
  live_input_ += input_tokens;
  live_output_ += output_tokens;
  publish_locked();
}

double CostMeter::wall_s_locked() const {
  if (!first_ || !last_) return 0;
  return std::chrono::duration<double>(*last_ - *first_).count();
}

CostMeter::Energy CostMeter::energy_locked() const {
  Energy e;
  bool apu = false;
  double gpu_j = 0;
  bool any_gpu = false;
  json gpus = json::object();
  for (const auto& [id, d] : gpus_) {
    if (!d.seen()) continue;
    auto k = gpu_kind_.find(id);
    const bool is_apu = k != gpu_kind_.end() && k->second == "apu";
    apu = apu || is_apu;
    json g = delta_json(d);
    if (is_apu) g["includes_cpu"] = true;
    gpus[id] = g;
    gpu_j += d.delta();
    any_gpu = true;
  }
  bool have_pkg = false;
  for (const auto& [zone, d] : cpu_zones_)
    if (d.seen() && (starts_with(zone, "package") || starts_with(zone, "dram"))) have_pkg = true;
  double cpu_j = 0;
  bool any_cpu = false;
  json zones = json::object();
  for (const auto& [zone, d] : cpu_zones_) {
    if (!d.seen()) continue;
    json z = delta_json(d);
    const bool counted = !apu && counted_zone(zone, have_pkg);
    z["counted"] = counted;
    zones[zone] = z;
    if (counted) {
      cpu_j += d.delta();
      any_cpu = true;
    }
  }
  e.sources = json::object();
  if (!zones.empty()) {
    json cpu = {{"metric", "tierscope_cpu_energy_joules_total"}, {"zones", zones}};
    if (any_cpu) cpu["joules"] = cpu_j;
    if (apu)
      cpu["not_counted"] = "an AMD APU's GPU energy (hwmon, the whole SoC package) already includes the CPU";
    else
      cpu["rule"] = have_pkg ? "package and dram zones counted (core, uncore, gpu are parts of a package)"
                             : "psys (the platform) counted: no package or dram zone";
    e.sources["cpu"] = cpu;
  }
  if (any_gpu) e.sources["gpu"] = {{"metric", "tierscope_gpu_energy_joules_total"}, {"gpus", gpus}, {"joules", gpu_j}};
  if (any_cpu || any_gpu) {
    e.joules = cpu_j + gpu_j;
  } else {
    e.absent = "no energy counter was read during the run (tierscope_cpu_energy_joules_total: RAPL energy_uj, "
               "root-only on recent kernels; tierscope_gpu_energy_joules_total: NVML or amdgpu hwmon); "
               "give cost.system_watts for a whole-system figure";
  }
  return e;
}

std::optional<double> CostMeter::ssd_bytes_locked(std::string& absent, json& devices) const {
  devices = json::object();
  if (offload_.empty()) {
    absent = "no offload device (tierscope_offload_device_info names none on this host)";
    return std::nullopt;
  }
  double bytes = 0;
  bool any = false;
  for (const auto& [controller, device] : offload_) {
    auto it = nvme_written_.find(controller);
    if (it == nvme_written_.end() || !it->second.seen()) continue;
    devices[controller] = {{"device", device}, {"bytes_written", it->second.delta()}, {"first", it->second.first()},
                           {"last", it->second.last()}, {"resets", it->second.resets()}};
    bytes += it->second.delta();
    any = true;
  }
  if (!any) {
    absent = "the offload devices' NVMe health log (tierscope_nvme_data_written_bytes_total) was not read";
    return std::nullopt;
  }
  return bytes;
}

void CostMeter::publish_locked() {
  if (!metrics_) return;
  const double wall = wall_s_locked();
  if (local_) {
    metrics_->set_cost("local_hardware", hourly_usd(hardware_usd_per_hour(*local_), wall));
    std::optional<double> joules;
    if (config_.system_watts) joules = *config_.system_watts * wall;
    else joules = energy_locked().joules;
    if (joules) metrics_->set_cost("local_energy", energy_usd(*joules, local_->electricity_usd_per_kwh));
  }
  if (!cloud_.empty()) metrics_->set_cost("cloud_gpu", hourly_usd(cloud_.front()->usd_per_hour, wall));
  if (!api_.empty()) metrics_->set_cost("api", api_usd(*api_.front(), live_input_, live_output_));
  if (ssd_) {
    std::string absent;
    json devices;
    if (auto bytes = ssd_bytes_locked(absent, devices))
      if (auto usd = ssd_wear_usd(*ssd_, *bytes)) metrics_->set_cost("ssd_wear", *usd);
  }
}

json CostMeter::summary(std::uint64_t in, std::uint64_t out) const {
  std::lock_guard lock(mu_);
  const double wall = wall_s_locked();
  json c;
  c["prices"] = {{"path", config_.prices_path}};
  c["wall_s"] = wall;
  c["samples"] = samples_;
  c["tokens"] = {{"input", in}, {"output", out}, {"total", in + out},
                 {"counted", "ok requests of the counted (non-warm-up) requests: the sum of steps[].input_tokens "
                             "and steps[].output_tokens"}};
  json inputs = json::object();
  json lines = json::object();
  json absent = json::object();

  // Energy, measured or given.
  const Energy e = energy_locked();
  json energy = {{"sources", e.sources}};
  std::optional<double> joules;
  if (config_.system_watts) {
    joules = *config_.system_watts * wall;
    energy["method"] = "system_watts";
    energy["system_watts"] = *config_.system_watts;
    energy["joules"] = *joules;
    energy["formula"] = "system_watts × wall_s";
    if (e.joules) energy["measured_joules"] = *e.joules;
  } else if (e.joules) {
    joules = e.joules;
    energy["method"] = "measured";
    energy["joules"] = *joules;
    energy["formula"] = "sum of the counted counters' increases from the run's first to its last host sample";
  } else {
    energy["absent"] = e.absent;
  }
  c["energy"] = energy;

  if (local_) {
    const LocalPrice& l = *local_;
    json li = {{"name", l.name}, {"purchase_usd", l.purchase_usd}, {"amortization_years", l.amortization_years},
               {"hours_per_day", l.hours_per_day}, {"electricity_usd_per_kwh", l.electricity_usd_per_kwh},
               {"source", l.source}, {"date", l.date}};
    if (l.idle_watts) li["idle_watts"] = *l.idle_watts;
    inputs["local"] = li;
    const double per_hour = hardware_usd_per_hour(l);
    const double hw = hourly_usd(per_hour, wall);
    lines["local_hardware"] = with_per_million(
        {{"name", l.name}, {"usd_per_hour", per_hour}, {"hours", wall / 3600.0},
         {"formula", "purchase_usd / (amortization_years × 365 × hours_per_day) × wall_s / 3600"}},
        hw, in, out);
    if (joules) {
      const double en = energy_usd(*joules, l.electricity_usd_per_kwh);
      lines["local_energy"] = with_per_million(
          {{"name", l.name}, {"joules", *joules}, {"kwh", *joules / kJoulesPerKwh},
           {"usd_per_kwh", l.electricity_usd_per_kwh}, {"method", energy["method"]},
           {"formula", "joules / 3.6e6 × electricity_usd_per_kwh"}},
          en, in, out);
      lines["local_total"] = with_per_million(
          {{"name", l.name}, {"formula", "local_hardware.usd + local_energy.usd"}}, hw + en, in, out);
    } else {
      absent["local_energy"] = e.absent;
      absent["local_total"] = "local_energy is absent";
    }
  } else {
    absent["local_hardware"] = absent["local_energy"] = absent["local_total"] =
        "no local hardware chosen (cost.local)";
  }

  json cloud_in = json::object(), cloud_lines = json::object();
  for (const CloudGpuPrice* cg : cloud_) {
    cloud_in[cg->name] = {{"usd_per_hour", cg->usd_per_hour}, {"gpus", cg->gpus}, {"gpu_model", cg->gpu_model},
                          {"memory_gib", cg->memory_gib}, {"source", cg->source}, {"date", cg->date}};
    cloud_lines[cg->name] = with_per_million(
        {{"usd_per_hour", cg->usd_per_hour}, {"hours", wall / 3600.0}, {"formula", "usd_per_hour × wall_s / 3600"}},
        hourly_usd(cg->usd_per_hour, wall), in, out);
  }
  inputs["cloud_gpu"] = cloud_in;
  lines["cloud_gpu"] = cloud_lines;

  json api_in = json::object(), api_lines = json::object();
  for (const ApiPrice* a : api_) {
    api_in[a->name] = {{"usd_per_1m_input", a->usd_per_1m_input}, {"usd_per_1m_output", a->usd_per_1m_output},
                       {"source", a->source}, {"date", a->date}};
    api_lines[a->name] = with_per_million(
        {{"input_tokens", in}, {"output_tokens", out},
         {"formula", "input_tokens × usd_per_1m_input / 1e6 + output_tokens × usd_per_1m_output / 1e6"}},
        api_usd(*a, in, out), in, out);
  }
  inputs["api"] = api_in;
  lines["api"] = api_lines;

  if (ssd_) {
    const SsdPrice& s = *ssd_;
    json si = {{"name", s.name}, {"rated_tbw", s.rated_tbw}, {"source", s.source}, {"date", s.date}};
    si["purchase_usd"] = s.purchase_usd ? json(*s.purchase_usd) : json(nullptr);
    inputs["ssd"] = si;
    std::string why;
    json devices;
    const auto bytes = ssd_bytes_locked(why, devices);
    if (!s.purchase_usd) {
      absent["ssd_wear"] = "the prices file gives no purchase_usd for ssd " + s.name + " (no public price: set it)";
    } else if (!bytes) {
      absent["ssd_wear"] = why;
    } else {
      lines["ssd_wear"] = {{"name", s.name}, {"bytes_written", *bytes}, {"devices", devices},
                           {"rated_tbw", s.rated_tbw}, {"purchase_usd", *s.purchase_usd},
                           {"formula", "bytes_written / (rated_tbw × 1e12) × purchase_usd"},
                           {"usd", *ssd_wear_usd(s, *bytes)}};
    }
  } else {
    absent["ssd_wear"] = "no SSD chosen (cost.ssd)";
  }
  if (config_.system_watts) inputs["system_watts"] = *config_.system_watts;
  c["inputs"] = inputs;
  c["lines"] = lines;
  c["absent"] = absent;
  return c;
}

// --- The console lines.

namespace {

std::string usd_text(const json& v) {
  if (!v.is_number()) return "-";
  std::ostringstream o;
  const double d = v.get<double>();
  o << '$' << std::fixed << std::setprecision(d != 0 && std::fabs(d) < 0.01 ? 6 : 4) << d;
  return o.str();
}

void cost_row(std::ostream& os, const std::string& basis, const std::string& name, const json& line) {
  os << "  " << std::left << std::setw(16) << basis << std::setw(28) << name << std::right << std::setw(14)
     << usd_text(line.value("usd", json())) << std::setw(16) << usd_text(line.value("usd_per_1m_output_tokens", json()))
     << "\n";
}

}  // namespace

void print_cost(std::ostream& os, const json& cost) {
  if (!cost.is_object() || !cost.contains("lines")) return;
  const json& lines = cost["lines"];
  os << "\ncost over " << std::fixed << std::setprecision(1) << cost.value("wall_s", 0.0) << " s, "
     << cost["tokens"].value("output", 0) << " output tokens (prices: " << cost["prices"].value("path", "") << ")\n";
  os << "  " << std::left << std::setw(16) << "basis" << std::setw(28) << "name" << std::right << std::setw(14)
     << "run" << std::setw(16) << "per 1M out" << "\n";
  for (const char* b : {"local_hardware", "local_energy", "local_total"})
    if (lines.contains(b)) cost_row(os, b, lines[b].value("name", ""), lines[b]);
  for (const char* b : {"cloud_gpu", "api"})
    if (lines.contains(b))
      for (const auto& [name, line] : lines[b].items()) cost_row(os, b, name, line);
  if (lines.contains("ssd_wear")) cost_row(os, "ssd_wear", lines["ssd_wear"].value("name", ""), lines["ssd_wear"]);
  if (cost.contains("absent"))
    for (const auto& [basis, why] : cost["absent"].items())
      os << "  " << std::left << std::setw(16) << basis << "absent: " << why.get<std::string>() << "\n";
}

}  // namespace tierscope::workloads
