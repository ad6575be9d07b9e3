// The probe registry: run order from declared dependencies, the built-in
// table's consistency, and a probe added the way docs/architecture.md says
// (one registration entry with its settings section, factory, dependencies
// and renderer) reaching the config reader, the sampler and the renderer
// without a change anywhere else.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/metric_writer.h"
#include "exporters/json_output.h"
#include "exporters/render.h"
#include "probes/registry.h"
#include "test_util.h"

using namespace tierscope;
using namespace std::chrono_literals;
using tierscope::testing::fixture_roots;

namespace {

std::vector<std::string_view> names(const std::vector<const ProbeRegistration*>& v) {
  std::vector<std::string_view> out;
  for (const auto* p : v) out.push_back(p->name);
  return out;
}

ProbeRegistration bare(std::string_view name, std::span<const std::string_view> after = {}) {
  return ProbeRegistration{.name = name, .after = after};
}

// ---- The dummy probe: what a new probe's file holds -------------------------

struct DummySettings {
  std::uint32_t factor = 1;
};

struct DummyReading {
  double scaled_mem_total = 0;
};
constexpr ReadingKey<DummyReading> kDummy{"dummy"};

// Reads another probe's reading: only correct when it runs after meminfo.
class DummyProbe final : public Probe {
 public:
  explicit DummyProbe(std::uint32_t factor) : factor_(factor) {}
  std::string_view name() const override { return "dummy"; }
  ProbeOutcome sample(ProbeContext&, Snapshot& out) override {
    const auto* mem = out.get(kMeminfo);
    if (!mem || !mem->get("MemTotal")) return ProbeOutcome::failed("meminfo has not run yet");
    out.put(kDummy, DummyReading{static_cast<double>(*mem->get("MemTotal")) * factor_});
    return ProbeOutcome::ok();
  }

 private:
  std::uint32_t factor_;
};

constexpr MetricDef kDummyMetric{"tierscope_dummy_scaled_memory_bytes", "MemTotal times dummy.factor, bytes.",
                                 prometheus::MetricType::Gauge};

void parse_dummy_section(const YamlReader& p, const YAML::Node& v, const std::string& key, ProbeSettings& out) {
  DummySettings s;
  p.each_key(v, key, {"factor"}, [&](const std::string&, const std::string& f, const YAML::Node& n) {
    s.factor = p.integer(n, f, 1, 16);
  });
  out.set(s);
}
constexpr ConfigSection kDummySection{"dummy", parse_dummy_section};
constexpr std::string_view kDummyAfter[] = {"meminfo"};

const ProbeRegistration kDummyProbe{
    .name = "dummy",
    .enabled_by_default = false,
    .section = &kDummySection,
    .after = kDummyAfter,
    .make = [](const ProbeSettings& s) -> std::unique_ptr<Probe> {
      return std::make_unique<DummyProbe>(s.get<DummySettings>().factor);
    },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kDummy)) w.add(kDummyMetric, r->scaled_mem_total);
        },
};

// The built-in registry with the dummy at the FRONT of the table: its place
// in the list must not decide when it runs.
ProbeRegistry with_dummy() {
  ProbeRegistry r = ProbeRegistry::builtin();
  r.probes.insert(r.probes.begin(), &kDummyProbe);
  return r;
}

class TestReader final : public YamlReader {
  std::string origin(const YAML::Mark& mark, std::string_view) const override { return file_position("t.yaml", mark); }
  [[noreturn]] void raise(const std::string& message) const override { throw std::runtime_error(message); }
};

SamplerConfig read_config(const ProbeRegistry& registry, const std::string& yaml) {
  SamplerConfig c(registry);
  TestReader p;
  SamplerConfigReader reader(p, c);
  YAML::Node root = YAML::Load(yaml);
  p.each_key(root, "", reader.keys(),
             [&](const std::string& key, const std::string& full, const YAML::Node& v) { reader.read(key, full, v); });
  reader.finish(root.Mark());
  return c;
}

}  // namespace

TEST(RunOrder, FollowsDeclaredDependenciesNotListPosition) {
  constexpr std::string_view after_b[] = {"b"};
  constexpr std::string_view after_c[] = {"c"};
  auto a = bare("a", after_b), b = bare("b", after_c), c = bare("c"), d = bare("d");
  EXPECT_EQ(names(run_order({&a, &b, &c, &d})), (std::vector<std::string_view>{"c", "b", "a", "d"}));
  // A dependency that is not in the list (disabled) orders nothing.
  EXPECT_EQ(names(run_order({&a, &d})), (std::vector<std::string_view>{"a", "d"}));
  // Free probes keep table order.
  EXPECT_EQ(names(run_order({&d, &c})), (std::vector<std::string_view>{"d", "c"}));
}

TEST(RunOrder, ACycleIsNamed) {
  constexpr std::string_view after_b[] = {"b"};
  constexpr std::string_view after_a[] = {"a"};
  auto a = bare("a", after_b), b = bare("b", after_a), c = bare("c");
  try {
    run_order({&c, &a, &b});
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "probe dependency cycle among: a, b");
  }
}

TEST(Registry, BuiltinTableIsConsistent) {
  const auto& r = ProbeRegistry::builtin();
  std::set<std::string_view> seen;
  for (const auto* p : r.probes) {
    EXPECT_TRUE(seen.insert(p->name).second) << "probe listed twice: " << p->name;
    EXPECT_TRUE(p->make) << p->name;
    EXPECT_TRUE(p->render) << p->name;
    for (auto dep : p->after) EXPECT_TRUE(r.find(dep)) << p->name << " runs after unknown probe " << dep;
  }
  std::set<std::string_view> keys{"sample_interval", "peak_window", "roots", "probes", "listen", "log_level"};
  for (const auto* s : r.sections()) EXPECT_TRUE(keys.insert(s->key).second) << "config key used twice: " << s->key;
  for (const auto* s : r.steps) EXPECT_TRUE(s->make) << s->name;
  // The dependencies of the built-in probes: drm_fdinfo reads the workload's
  // processes; workload_memory reads those and the GPU probes' per-process memory.
  auto order = names(run_order(r.probes));
  auto at = [&](std::string_view n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  EXPECT_LT(at("workload"), at("drm_fdinfo"));
  for (auto before : {"workload", "gpu_nvml", "gpu_amdgpu", "drm_fdinfo"}) EXPECT_LT(at(before), at("workload_memory"));
  EXPECT_EQ(order.size(), 12u);
}

TEST(Registry, ADummyProbeNeedsOnlyItsRegistration) {
  const ProbeRegistry registry = with_dummy();
  // Its config section and its `probes:` switch are known to the reader...
  SamplerConfig c = read_config(registry, "probes: {dummy: true}\ndummy: {factor: 3}\n");
  EXPECT_TRUE(c.probe_enabled("dummy"));
  EXPECT_EQ(c.section<DummySettings>().factor, 3u);
  EXPECT_FALSE(SamplerConfig(registry).probe_enabled("dummy"));  // enabled_by_default = false
  try {
    read_config(registry, "dummy: {factr: 3}\n");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).find("t.yaml:1:9: dummy.factr: unknown key; did you mean \"factor\"?"), 0u)
        << e.what();
  }
  // ...and to no one else.
  EXPECT_THROW(read_config(ProbeRegistry::builtin(), "dummy: {factor: 3}\n"), std::runtime_error);

  // The sampler builds it, runs it after meminfo although it is listed first,
  // and the renderer shows its metric and its health.
  c.roots = fixture_roots("phison-host");
  Logger quiet(LogLevel::error);
  Sampler sampler(c, quiet);
  auto snap = sampler.sample_now();
  std::vector<std::string> ran;
  for (const auto& run : snap->probes) ran.push_back(run.probe);
  auto pos = [&](std::string_view n) { return std::find(ran.begin(), ran.end(), n) - ran.begin(); };
  ASSERT_LT(pos("dummy"), static_cast<long>(ran.size()));
  EXPECT_LT(pos("meminfo"), pos("dummy"));
  ASSERT_TRUE(snap->get(kDummy));
  EXPECT_EQ(snap->get(kDummy)->scaled_mem_total, 3.0 * 130023424 * 1024);

  MetricWriter w;
  render_snapshot(*snap, w);
  const std::string text = to_prometheus_text(std::move(w).finish());
  EXPECT_NE(text.find("tierscope_dummy_scaled_memory_bytes 399431958528\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tierscope_probe_success{probe=\"dummy\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("tierscope_memory_capacity_bytes{device=\"host\",tier=\"ram\"}"), std::string::npos);
}
