// scenario: soak (parsing, its errors, the effective YAML), the soak's
// bounded series and its soak.json state round trip.
#include <gtest/gtest.h>

#include <cmath>

#include "workloads/scenario.h"
#include "workloads/soak_series.h"

using namespace tierscope::workloads;

namespace {

const char* kSoak = R"(engine: { kind: llamacpp, url: http://127.0.0.1:8080 }
scenario: soak
duration: 2h
idle_tail: 5m
users: 3
prompt_tokens: 256
output_tokens: 32
)";

std::string error_of(const std::string& yaml, std::vector<Override> o = {}) {
  try {
    parse_scenario(yaml, "s.yaml", o);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST(SoakScenario, ClosedLoopWithDefaults) {
  Scenario s = parse_scenario(kSoak, "s.yaml");
  EXPECT_EQ(s.kind, ScenarioKind::soak);
  EXPECT_TRUE(s.soak.load);
  EXPECT_EQ(s.soak.duration, std::chrono::hours(2));
  EXPECT_EQ(s.soak.idle_tail, std::chrono::minutes(5));
  EXPECT_EQ(s.soak.load_duration(), std::chrono::minutes(115));
  EXPECT_EQ(s.soak.checkpoint_interval, std::chrono::minutes(1));
  EXPECT_EQ(s.soak.sample_interval, std::chrono::seconds(1));
  EXPECT_EQ(s.users, (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(s.arrival.mode, ArrivalMode::closed);
  EXPECT_EQ(s.soak.record, nullptr);
  EXPECT_TRUE(s.soak.workload.empty());
}

TEST(SoakScenario, ObserveOnlyWithWorkloadAndLeakThresholds) {
  Scenario s = parse_scenario(R"(scenario: soak
duration: 90s
idle_tail: 0s
sample_interval: 200ms
checkpoint_interval: 10s
workload: { pids: [1234, 99], process_names: [llama-server], systemd_units: [ollama.service], cgroup: [/system.slice/x.service] }
leak: { min_duration: 30s, min_points: 20, confidence: 0.9, noise_floor: 2M, noise_floor_count: 3, max_points: 500, blocks: 20 }
)",
                              "s.yaml");
  EXPECT_FALSE(s.soak.load);
  EXPECT_EQ(s.soak.workload.pids, (std::vector<std::uint32_t>{1234, 99}));
  EXPECT_EQ(s.soak.workload.process_names, (std::vector<std::string>{"llama-server"}));
  EXPECT_EQ(s.soak.workload.systemd_units, (std::vector<std::string>{"ollama.service"}));
  EXPECT_EQ(s.soak.workload.cgroups, (std::vector<std::string>{"/system.slice/x.service"}));
  EXPECT_EQ(s.soak.sample_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(*s.soak.leak.min_duration, std::chrono::seconds(30));
  EXPECT_EQ(*s.soak.leak.min_points, 20u);
  EXPECT_DOUBLE_EQ(*s.soak.leak.confidence, 0.9);
  EXPECT_EQ(*s.soak.leak.noise_floor, 2u << 20);
  EXPECT_DOUBLE_EQ(*s.soak.leak.noise_floor_count, 3.0);
  EXPECT_EQ(*s.soak.leak.max_points, 500u);
  EXPECT_EQ(*s.soak.leak.blocks, 20u);
  // The effective scenario reads back to itself.
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(s), "effective.yaml")), to_yaml(s));
}

TEST(SoakScenario, OpenLoopAndEffectiveYamlRoundTrip) {
  Scenario s = parse_scenario(std::string(R"(engine: { kind: vllm, url: http://127.0.0.1:8000, model: m }
scenario: soak
duration: 24h
arrival: { mode: poisson, rate: 2.5 }
)"),
                              "s.yaml");
  EXPECT_EQ(s.arrival.mode, ArrivalMode::poisson);
  EXPECT_DOUBLE_EQ(s.arrival.rate, 2.5);
  EXPECT_EQ(s.soak.duration, std::chrono::hours(24));
  EXPECT_EQ(s.soak.idle_tail, std::chrono::minutes(10));  // the default
  const std::string y = to_yaml(s);
  EXPECT_EQ(to_yaml(parse_scenario(y, "effective.yaml")), y);
  EXPECT_FALSE(has(y, "users:")) << y;
  EXPECT_FALSE(has(y, "repetitions")) << y;
  Scenario closed = parse_scenario(kSoak, "s.yaml");
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(closed), "effective.yaml")), to_yaml(closed));
}

TEST(SoakScenario, SetOverridesApply) {
  Scenario s = parse_scenario(kSoak, "s.yaml", {parse_override("duration=30m"), parse_override("users=8")});
  EXPECT_EQ(s.soak.duration, std::chrono::minutes(30));
  EXPECT_EQ(s.users, (std::vector<std::uint32_t>{8}));
  EXPECT_TRUE(has(error_of(kSoak, {parse_override("duration=soon")}), "--set duration=soon: duration: expected"));
}

TEST(SoakScenario, NonsenseIsRejectedWithPosition) {
  // duration missing
  EXPECT_TRUE(has(error_of("scenario: soak\n"), "duration: missing")) << error_of("scenario: soak\n");
  // idle tail longer than the run
  auto e = error_of("scenario: soak\nduration: 5m\nidle_tail: 10m\n");
  EXPECT_TRUE(has(e, "s.yaml:3:12: idle_tail: 600s leaves no time")) << e;
  // the default idle tail (10m) against a short run with load
  e = error_of("engine: { kind: llamacpp, url: http://127.0.0.1:8080 }\nscenario: soak\nduration: 10m\n");
  EXPECT_TRUE(has(e, "(the default)")) << e;
  // users and arrival both
  e = error_of(std::string(kSoak) + "arrival: { mode: poisson, rate: 1 }\n");
  EXPECT_TRUE(has(e, "s.yaml:8:10: arrival: given with users")) << e;
  // a list of users
  e = error_of("engine: { kind: llamacpp, url: http://127.0.0.1:8080 }\nscenario: soak\nduration: 1h\nusers: [1, 2]\n");
  EXPECT_TRUE(has(e, "s.yaml:4:8: users: expected one number")) << e;
  // load without an engine
  e = error_of("scenario: soak\nduration: 1h\nusers: 2\n");
  EXPECT_TRUE(has(e, "users: needs engine")) << e;
  // sweep keys in a soak, soak keys in a sweep
  e = error_of(std::string(kSoak) + "contexts: [1024]\n");
  EXPECT_TRUE(has(e, "s.yaml:8:11: contexts: not a key of scenario: soak")) << e;
  e = error_of("engine: { kind: llamacpp, url: http://x }\nscenario: protocol\nduration: 1h\n");
  EXPECT_TRUE(has(e, "s.yaml:3:11: duration: only for scenario: soak")) << e;
  // a sweep's users stay a list
  e = error_of("engine: { kind: llamacpp, url: http://x }\nscenario: concurrency_sweep\nusers: 4\n");
  EXPECT_TRUE(has(e, "users: expected a non-empty list")) << e;
  // the workload section's own checks, misspelt keys
  e = error_of("scenario: soak\nduration: 1h\nworkload: { pids: [0] }\n");
  EXPECT_TRUE(has(e, "s.yaml:3:20: workload.pids: expected a process id")) << e;
  e = error_of("scenario: soak\nduration: 1h\nleak: { noise_flor: 1M }\n");
  EXPECT_TRUE(has(e, "did you mean \"noise_floor\"")) << e;
  e = error_of("scenario: soak\nduration: 1h\nsample_interval: 10ms\n");
  EXPECT_TRUE(has(e, "sample_interval: expected")) << e;
  // a launched engine is the workload: no workload section beside it
  e = error_of(R"(engine: { kind: llamacpp, launch: { argv: [srv, --port, "{port}"] } }
scenario: soak
duration: 1h
workload: { pids: [12] }
)");
  EXPECT_TRUE(has(e, "s.yaml:4:11: workload: given with engine.launch")) << e;
}

TEST(SoakSeries, KeepsEverySampleUntilFull) {
  BoundedSeries s(8);
  for (int i = 0; i < 7; ++i) s.add({double(i), double(10 * i), double(i), std::nullopt});
  auto p = s.points();
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(s.stride(), 1u);
  EXPECT_DOUBLE_EQ(p[6].value, 60);
  EXPECT_DOUBLE_EQ(*p[6].requests, 6);
  EXPECT_FALSE(p[6].tokens);
}

TEST(SoakSeries, MergesAdjacentPairsWhenFullAndStaysBounded) {
  BoundedSeries s(1000);
  const std::uint64_t n = 864'000;  // 24 h at 10 Hz
  for (std::uint64_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 10.0;
    s.add({t, 1000.0 + 2.0 * t, t, std::nullopt});
  }
  auto p = s.points();
  EXPECT_LE(p.size(), 1001u);
  EXPECT_GE(p.size(), 500u);
  EXPECT_EQ(s.samples(), n);
  EXPECT_EQ(s.stride(), 1024u);  // 864 000 samples / 1000 points, rounded up to a power of two
  // Means of a line lie on the line, evenly spaced in time.
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i].value, 1000.0 + 2.0 * p[i].t_s, 1e-6) << i;
  const double step = p[1].t_s - p[0].t_s;
  EXPECT_NEAR(step, 1024 / 10.0, 1e-6);
  for (std::size_t i = 1; i + 2 < p.size(); ++i) EXPECT_NEAR(p[i + 1].t_s - p[i].t_s, step, 1e-6) << i;
  // The first point is the mean of the first stride of samples; the last sample counts (partial mean).
  EXPECT_NEAR(p.front().t_s, (1024 - 1) / 2.0 / 10.0, 1e-6);
  EXPECT_GT(p.back().t_s, (n - 1024) / 10.0);
}

TEST(SoakSeries, OddCapacityKeepsWeights) {
  BoundedSeries s(5);
  for (int i = 0; i < 100; ++i) s.add({double(i), double(i), std::nullopt, std::nullopt});
  auto p = s.points();
  EXPECT_LE(p.size(), 6u);
  for (const auto& x : p) EXPECT_NEAR(x.value, x.t_s, 1e-9);
}

TEST(SoakState, RoundTripsThroughJson) {
  SoakState s;
  s.name = "soak-a";
  s.scenario_sha256 = std::string(64, 'f');
  s.status = "interrupted";
  s.started = "2026-12-02T10:00:00Z";
  s.updated = "2026-12-02T11:00:00Z";
  s.elapsed_s = 3599.5;
  s.duration_s = 86400;
  s.idle_tail_s = 600;
  s.samples = 35995;
  s.requests_ok = 1234;
  s.requests_failed = 5;
  s.output_tokens = 98765;
  s.engine_restarts = 2;
  s.gaps = {{1000.0, 1012.5}, {2000.0, 2001.0}};
  auto j = s.to_json();
  EXPECT_DOUBLE_EQ(j["gap_seconds"].get<double>(), 13.5);
  EXPECT_DOUBLE_EQ(j["gaps"][0]["seconds"].get<double>(), 12.5);
  SoakState back = SoakState::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.engine_restarts, 2u);
  EXPECT_DOUBLE_EQ(back.gap_seconds(), 13.5);
}

TEST(SoakState, RejectsAWrongShapeNamingTheField) {
  SoakState s;
  auto j = s.to_json();
  j["requests_ok"] = "many";
  try {
    (void)SoakState::from_json(j);
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(has(e.what(), "requests_ok")) << e.what();
  }
  j = s.to_json();
  j.erase("gaps");
  EXPECT_THROW((void)SoakState::from_json(j), std::runtime_error);
  EXPECT_THROW((void)SoakState::from_json(nlohmann::json::array()), std::runtime_error);
}

TEST(SoakSeries, ThreadsOfProcStatus) {
  EXPECT_EQ(parse_status_threads("Name:\tllama-server\nUmask:\t0022\nThreads:\t17\nVmRSS:\t 1 kB\n"), 17u);
  EXPECT_EQ(parse_status_threads("Threads:\t1\n"), 1u);
  EXPECT_FALSE(parse_status_threads("Name:\tx\n"));
  EXPECT_FALSE(parse_status_threads("Threads:\tmany\n"));
  EXPECT_FALSE(parse_status_threads("XThreads:\t3\n"));
}
