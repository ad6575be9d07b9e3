// scenario: ab — the arms merged over engine and limits, the settings, every
// error with its position, the block schedule, the effective YAML, and the
// per-arm columns of summary.csv.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "workloads/bench_metrics.h"
#include "workloads/scenario.h"
#include "workloads/summary.h"

using namespace tierscope::workloads;

namespace {

// Two arms of a launched engine under two budgets: b overrides one argv and
// the memory limit, a only its name.
const char* kAb = R"(engine:
  kind: llamacpp
  launch:
    argv: [mock, --port, "{port}", --n-ctx, "{ctx}"]
    env: {A: "1", B: "2"}
    restart: per_step
limits: {memory_max: 32M, swap_max: 0}
scenario: ab
contexts: [128, 256]
repetitions: 2
ab: {order: ABBA, blocks: 6, cooldown: 1s, margin: 0.1, seed: 7, unit: blocks}
arms:
  a: {name: small}
  b:
    name: large
    engine: {launch: {argv: [mock, --port, "{port}", --n-ctx, "{ctx}", --big], env: {B: null, C: "3"}}}
    limits: {memory_max: 96M}
)";

std::string error_of(const std::string& yaml, std::vector<Override> o = {}) {
  try {
    parse_scenario(yaml, "ab.yaml", o);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

// kAb with `from` replaced by `to` (once; the test fails when absent).
std::string with(const std::string& from, const std::string& to) {
  std::string s = kAb;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// The error of parse_scenario(ARGS) holds `needle` (else the message is shown).
#define EXPECT_ERROR(args, needle)                                  \
  do {                                                              \
    const std::string message_ = error_of args;                     \
    EXPECT_TRUE(has(message_, needle)) << "message: " << message_; \
  } while (0)

}  // namespace

TEST(AbSchedule, RepeatsTheOrderToTheBlocks) {
  using V = std::vector<std::size_t>;
  EXPECT_EQ(ab_schedule("ABBA", 4), (V{0, 1, 1, 0}));
  EXPECT_EQ(ab_schedule("ABBA", 6), (V{0, 1, 1, 0, 0, 1}));
  EXPECT_EQ(ab_schedule("ABBA", 8), (V{0, 1, 1, 0, 0, 1, 1, 0}));
  EXPECT_EQ(ab_schedule("AB", 5), (V{0, 1, 0, 1, 0}));
  EXPECT_EQ(ab_schedule("BA", 2), (V{1, 0}));
  EXPECT_EQ(ab_schedule("AABB", 2), (V{0, 0}));
  EXPECT_TRUE(ab_schedule("", 4).empty());
  EXPECT_TRUE(ab_schedule("AB", 0).empty());
}

TEST(AbScenario, ArmsAreMergedOverEngineAndLimits) {
  const Scenario s = parse_scenario(kAb, "ab.yaml");
  ASSERT_TRUE(s.ab);
  EXPECT_EQ(s.kind, ScenarioKind::context_sweep);  // the default sweep: contexts are given
  EXPECT_EQ(s.ab->sweep, ScenarioKind::context_sweep);
  EXPECT_EQ(s.ab->order, "ABBA");
  EXPECT_EQ(s.ab->blocks, 6u);
  EXPECT_EQ(s.ab->cooldown, std::chrono::seconds(1));
  EXPECT_DOUBLE_EQ(s.ab->margin, 0.1);
  EXPECT_EQ(s.ab->seed, 7u);
  EXPECT_EQ(s.ab->unit, "blocks");
  const AbArm& a = s.ab->arms[0];
  const AbArm& b = s.ab->arms[1];
  EXPECT_EQ(a.name, "small");
  EXPECT_EQ(b.name, "large");
  // a: the scenario's engine and limits as they are.
  ASSERT_TRUE(a.engine.launch);
  EXPECT_EQ(a.engine.launch->spec.argv, s.engine.launch->spec.argv);
  EXPECT_EQ(a.engine.launch->spec.env, s.engine.launch->spec.env);
  EXPECT_EQ(a.engine.launch->spec.restart, RestartPolicy::per_step);
  EXPECT_EQ(a.limits, s.limits);
  EXPECT_EQ(a.limits.memory_max, 32u << 20);
  // b: argv replaced (a list), env merged by variable (B removed, C added),
  // restart kept from the base, memory_max replaced, swap_max kept.
  ASSERT_TRUE(b.engine.launch);
  EXPECT_EQ(b.engine.launch->spec.argv.back(), "--big");
  EXPECT_EQ(b.engine.launch->spec.argv.size(), 6u);
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(b.engine.launch->spec.env, (Env{{"A", "1"}, {"C", "3"}}));
  EXPECT_EQ(b.engine.launch->spec.restart, RestartPolicy::per_step);
  EXPECT_EQ(b.limits.memory_max, 96u << 20);
  EXPECT_EQ(b.limits.swap_max, 0u);
  // What one arm runs: the sweep with the arm's engine and limits.
  const Scenario rb = arm_scenario(s, 1);
  EXPECT_FALSE(rb.ab);
  EXPECT_EQ(rb.kind, ScenarioKind::context_sweep);
  EXPECT_EQ(rb.limits.memory_max, 96u << 20);
  EXPECT_EQ(rb.engine.launch->spec.argv.back(), "--big");
  EXPECT_EQ(rb.contexts, s.contexts);
}

TEST(AbScenario, DefaultsAndTheSweepFromUsers) {
  const Scenario s = parse_scenario(R"(engine: {kind: llamacpp, url: http://127.0.0.1:1}
scenario: ab
users: [1, 2]
arms: {a: {}, b: {engine: {url: http://127.0.0.1:2}}}
)",
                                    "ab.yaml");
  ASSERT_TRUE(s.ab);
  EXPECT_EQ(s.kind, ScenarioKind::concurrency_sweep);
  EXPECT_EQ(s.ab->order, "ABBA");
  EXPECT_EQ(s.ab->blocks, 4u);
  EXPECT_EQ(s.ab->cooldown, std::chrono::seconds(10));
  EXPECT_DOUBLE_EQ(s.ab->margin, 0.05);
  EXPECT_EQ(s.ab->seed, 1u);
  EXPECT_EQ(s.ab->unit, "auto");
  EXPECT_EQ(s.ab->arms[0].name, "a");
  EXPECT_EQ(s.ab->arms[1].name, "b");
  EXPECT_EQ(s.ab->arms[0].engine.url, "http://127.0.0.1:1");
  EXPECT_EQ(s.ab->arms[1].engine.url, "http://127.0.0.1:2");  // an engine at a URL per arm
}

TEST(AbScenario, EffectiveYamlRoundTrips) {
  const Scenario s = parse_scenario(kAb, "ab.yaml");
  const std::string y = to_yaml(s);
  EXPECT_TRUE(has(y, "scenario: ab")) << y;
  const Scenario again = parse_scenario(y, "effective.yaml");
  EXPECT_EQ(to_yaml(again), y);
  ASSERT_TRUE(again.ab);
  EXPECT_EQ(again.ab->arms[1].engine.launch->spec.env, s.ab->arms[1].engine.launch->spec.env);
  EXPECT_EQ(again.ab->arms[1].limits, s.ab->arms[1].limits);
}

TEST(AbScenario, NullRemovesBaseKeys) {
  const std::string y = R"(engine:
  kind: llamacpp
  num_ctx: 64
  launch: {argv: [mock, "{port}"]}
limits: {memory_max: 32M}
scenario: ab
contexts: [128]
arms:
  a: {name: launched}
  b: {name: running, engine: {url: http://127.0.0.1:9, launch: null, num_ctx: null}, limits: null}
)";
  const Scenario s = parse_scenario(y, "ab.yaml");
  ASSERT_TRUE(s.ab);
  EXPECT_TRUE(s.ab->arms[0].engine.launch);
  EXPECT_FALSE(s.ab->arms[1].engine.launch);
  EXPECT_FALSE(s.ab->arms[1].engine.num_ctx);
  EXPECT_TRUE(s.ab->arms[1].limits.empty());
  EXPECT_EQ(s.ab->arms[1].engine.url, "http://127.0.0.1:9");
  const std::string e = to_yaml(s);
  EXPECT_EQ(to_yaml(parse_scenario(e, "effective.yaml")), e) << e;
}

TEST(AbScenario, EveryErrorNamesTheKeyAndWhere) {
  // Settings.
  EXPECT_ERROR((with("order: ABBA", "order: ABCA")), "ab.yaml:11:13: ab.order: expected a string");
  EXPECT_ERROR((with("order: ABBA", "order: AAAA")), "ab.blocks: order AAAA over 6 blocks never runs arm b");
  EXPECT_ERROR((with("blocks: 6", "blocks: 1")), "ab.yaml:11:27: ab.blocks: expected an integer");
  EXPECT_ERROR((with("order: ABBA, blocks: 6", "order: AABB, blocks: 2")), "ab.yaml:11:27: ab.blocks: order AABB over 2 blocks never runs arm b");
  EXPECT_ERROR((with("cooldown: 1s", "cooldown: soon")), "ab.cooldown: expected a duration");
  EXPECT_ERROR((with("margin: 0.1", "margin: 0")), "ab.margin: expected a relative margin");
  EXPECT_ERROR((with("unit: blocks", "unit: block")), "did you mean \"blocks\"");
  EXPECT_ERROR((with("seed: 7", "seeds: 7")), "ab.yaml:11:57: ab.seeds: unknown key; did you mean \"seed\"?");
  EXPECT_ERROR((with("ab: {", "ab: {sweep: protocol, ")), "ab.sweep");
  EXPECT_ERROR((with("ab: {order: ABBA, blocks: 6, cooldown: 1s, margin: 0.1, seed: 7, unit: blocks}", "ab: [1]")), "ab: expected a mapping");
  // Arms.
  EXPECT_ERROR((with("arms:\n", "armz:\n")), "armz: unknown key; did you mean \"arms\"?");
  EXPECT_ERROR((with("  a: {name: small}\n", "")), "arms.a: missing");
  EXPECT_ERROR((with("  a: {name: small}\n", "  a: {name: small}\n  c: {name: x}\n")), "ab.yaml:14:3: arms.c: unknown key");
  EXPECT_ERROR((with("name: small", "name: large")), "arms.b.name: the same as arms.a.name");
  EXPECT_ERROR((with("name: small", "name: \"\"")), "arms.a.name: expected a name");
  EXPECT_ERROR((with("{name: small}", "{name: small, engin: {}}")), "arms.a.engin: unknown key; did you mean \"engine\"?");
  EXPECT_ERROR((with("{name: small}", "{name: small, engine: [1]}")), "arms.a.engine: expected a mapping");
  EXPECT_ERROR((with("{name: small}", "[small]")), "arms.a: expected a mapping (name, engine, limits)");
  // The merged arm is validated as the scenario's own keys, at the arm's position.
  EXPECT_ERROR((with("limits: {memory_max: 96M}", "limits: {memory_max: 1K}")), "ab.yaml:17:26: limits.memory_max");
  EXPECT_ERROR((with("limits: {memory_max: 96M}", "limits: {memory_max: 1K}")), "(arm b:");
  EXPECT_ERROR((with("--big]", "--big], restrat: per_run")), "engine.launch.restrat: unknown key; did you mean \"restart\"?");
  EXPECT_ERROR((with("engine: {launch: {argv", "engine: {kind: llamacp, launch: {argv")), "did you mean \"llamacpp\"");
  EXPECT_ERROR((with("engine: {launch: {argv", "engine: {launch: null, x: {argv")), "engine.x: unknown key");
  // Missing parts.
  EXPECT_ERROR((R"(engine: {kind: llamacpp, url: http://127.0.0.1:1}
scenario: ab
contexts: [1]
)"), "ab.yaml:1:1: arms: missing");
  EXPECT_ERROR((R"(engine: {kind: llamacpp, url: http://127.0.0.1:1}
scenario: ab
arms: {a: {}, b: {}}
)"), "ab.sweep: missing");
  EXPECT_ERROR((R"(engine: {kind: llamacpp, url: http://127.0.0.1:1}
scenario: ab
ab: {sweep: concurrency_sweep}
contexts: [1]
arms: {a: {}, b: {}}
)"), "users: missing");
  // ab and arms belong to scenario: ab only.
  EXPECT_ERROR((R"(engine: {kind: llamacpp, url: http://127.0.0.1:1}
scenario: context_sweep
contexts: [1]
arms: {a: {}, b: {}}
)"), "ab.yaml:4:7: arms: only for scenario: ab");
  // --set reaches the arms.
  const Scenario s = parse_scenario(kAb, "ab.yaml", {parse_override("arms.b.limits.memory_max=128M")});
  EXPECT_EQ(s.ab->arms[1].limits.memory_max, 128u << 20);
  EXPECT_ERROR((kAb, {parse_override("ab.blocks=0")}), "--set ab.blocks=0: ab.blocks");
}

TEST(AbSummary, CsvHasTheArmFirstAndTheTableEachArm) {
  RunSummary s;
  s.scenario = "ab";
  s.ab = nlohmann::json{{"order", "ABBA"}};
  s.arms = nlohmann::json{{"a", {{"name", "small"}}}, {"b", {{"name", "large"}}}};
  for (const char* arm : {"a", "b"}) {
    StepResult st;
    st.step = 0;
    st.key = StepKey{StepKey::Kind::context_tokens, 128, ""};
    st.label = "context 128";
    st.arm = arm;
    st.stats.requests = 2;
    st.stats.ok = arm[0] == 'a' ? 0 : 2;
    s.steps.push_back(st);
  }
  const std::string csv = summary_csv(s);
  EXPECT_EQ(csv.rfind("arm,step,context_tokens,users,", 0), 0u) << csv;
  EXPECT_TRUE(has(csv, "\na,0,128,,,2,0,")) << csv;
  EXPECT_TRUE(has(csv, "\nb,0,128,,,2,2,")) << csv;
  const nlohmann::json j = to_json(s);
  EXPECT_EQ(j["steps"][0]["arm"], "a");
  EXPECT_EQ(j["steps"][1]["arm"], "b");
  // A plain run's CSV has no arm column.
  s.ab.reset();
  EXPECT_EQ(summary_csv(s).rfind("step,context_tokens,", 0), 0u);
}

TEST(AbSummary, RecordsCarryArmBlockAndNotSent) {
  RequestRecord r;
  EXPECT_FALSE(to_json(r).contains("arm"));
  EXPECT_FALSE(to_json(r).contains("block"));
  EXPECT_FALSE(to_json(r).contains("sent"));
  r.arm = "b";
  r.block = 3;
  r.sent = false;
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["arm"], "b");
  EXPECT_EQ(j["block"], 3);
  EXPECT_EQ(j["sent"], false);
}

// tierscope_bench_arm_info and tierscope_bench_ab_block: absent outside an
// A/B run; in one, 1 for the running arm (by arm and name), 0 for the other.
TEST(AbMetrics, ArmInfoShowsTheRunningArm) {
  BenchMetrics m;
  auto family = [&](const std::string& name) -> const prometheus::MetricFamily* {
    static std::vector<prometheus::MetricFamily> families;
    families = m.Collect();
    for (const auto& f : families)
      if (f.name == name) return &f;
    return nullptr;
  };
  EXPECT_EQ(family("tierscope_bench_arm_info"), nullptr);
  EXPECT_EQ(family("tierscope_bench_ab_block"), nullptr);
  m.set_ab("small", "large");
  EXPECT_EQ(family("tierscope_bench_arm_info"), nullptr);  // no block runs yet
  m.set_ab_block(1, 2);
  const prometheus::MetricFamily* info = family("tierscope_bench_arm_info");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->metric.size(), 2u);
  std::map<std::string, double> by_arm;
  for (const auto& metric : info->metric) {
    std::map<std::string, std::string> labels;
    for (const auto& l : metric.label) labels[l.name] = l.value;
    by_arm[labels["arm"] + "=" + labels["name"]] = metric.gauge.value;
  }
  EXPECT_EQ(by_arm, (std::map<std::string, double>{{"a=small", 0.0}, {"b=large", 1.0}}));
  const prometheus::MetricFamily* block = family("tierscope_bench_ab_block");
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->metric.at(0).gauge.value, 2.0);
}
