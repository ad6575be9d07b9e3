// The scenario file parser: strict keys, messages with file:line:col, --set
// overrides, engine.launch, every shipped scenario, and scenario: soak.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "exporters/recorder.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;

namespace {

const char* kMinimal = R"(engine: { kind: llamacpp, url: http://127.0.0.1:8080/, model: my-model }
scenario: context_sweep
contexts: [2048, 4096, 8192]
users: [1, 2, 4, 8]
output_tokens: 128
warmup: 1
repetitions: 5
stop_on_failure: true
)";

std::string error_of(const std::string& yaml, std::vector<Override> o = {}) {
  try {
    parse_scenario(yaml, "s.yaml", o);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Scenario, MinimalFormFromTheIssue) {
  auto s = parse_scenario(kMinimal, "s.yaml");
  EXPECT_EQ(s.engine.kind, EngineKind::llamacpp);
  EXPECT_EQ(s.engine.url, "http://127.0.0.1:8080");
  EXPECT_EQ(s.engine.dialect(), Dialect::llamacpp_completion);
  EXPECT_EQ(s.contexts, (std::vector<std::uint32_t>{2048, 4096, 8192}));
  EXPECT_EQ(s.users.size(), 4u);
  EXPECT_EQ(s.repetitions, 5u);
  EXPECT_TRUE(s.stop_on_failure);
  EXPECT_DOUBLE_EQ(s.failure_threshold, 0.5);
  EXPECT_TRUE(s.effective_ignore_eos());
}

TEST(Scenario, UnknownKeyHasPositionAndSuggestion) {
  auto e = error_of(std::string(kMinimal) + "repetitons: 3\n");
  EXPECT_NE(e.find("s.yaml:9:1: repetitons: unknown key; did you mean \"repetitions\"?"), std::string::npos) << e;
}

TEST(Scenario, BadValuesNameTheKey) {
  EXPECT_NE(error_of(std::string(kMinimal) + "trim: 0.7\n").find("s.yaml:9:7: trim: expected"), std::string::npos);
  EXPECT_NE(error_of("engine: {kind: llamacp, url: http://x}\nscenario: protocol\n").find("did you mean \"llamacpp\""),
            std::string::npos);
  EXPECT_NE(error_of("engine: {kind: ollama, url: http://x}\nscenario: protocol\n").find("engine.model: missing"),
            std::string::npos);
  EXPECT_NE(error_of("engine: {kind: ollama, url: http://x, model: m, api: completions}\nscenario: protocol\n")
                .find("engine.api"),
            std::string::npos);
  EXPECT_NE(error_of("engine: {kind: vllm, url: ftp://x, model: m}\n").find("engine.url: expected an http"),
            std::string::npos);
  EXPECT_NE(error_of("engine: {kind: vllm, url: http://x, model: m}\nscenario: context_sweep\n").find("contexts: missing"),
            std::string::npos);
  EXPECT_NE(error_of("[1, 2").find("invalid YAML"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "request_timeout: soon\n").find("request_timeout: expected a duration"),
            std::string::npos);
}

TEST(Scenario, SetOverridesBeforeValidation) {
  auto s = parse_scenario(kMinimal, "s.yaml",
                          {parse_override("engine.url=http://10.0.0.1:9000"), parse_override("repetitions=3"),
                           parse_override("contexts=[1024,2048]"), parse_override("arrival.mode=poisson"),
                           parse_override("arrival.rate=2.5")});
  EXPECT_EQ(s.engine.url, "http://10.0.0.1:9000");
  EXPECT_EQ(s.repetitions, 3u);
  EXPECT_EQ(s.contexts, (std::vector<std::uint32_t>{1024, 2048}));
  EXPECT_EQ(s.arrival.mode, ArrivalMode::poisson);
  EXPECT_DOUBLE_EQ(s.arrival.rate, 2.5);
  auto e = error_of(kMinimal, {parse_override("repetitions=many")});
  EXPECT_NE(e.find("--set repetitions=many: repetitions: expected an integer"), std::string::npos) << e;
  EXPECT_THROW(parse_override("novalue"), ScenarioError);
  EXPECT_NE(error_of(kMinimal, {parse_override("engine.kind.x=1")}).find("not a mapping"), std::string::npos);
}

TEST(Scenario, ProtocolDefaultsToTheNinePrompts) {
  auto s = parse_scenario("engine: {kind: ollama, url: http://x, model: m}\nscenario: protocol\n", "s.yaml");
  ASSERT_EQ(s.prompts.size(), 9u);
  std::uint32_t lo = 100000, hi = 0;
  for (const auto& p : s.prompts) {
    lo = std::min(lo, p.max_tokens);
    hi = std::max(hi, p.max_tokens);
    EXPECT_EQ(p.temperature, 0.3);
  }
  EXPECT_EQ(lo, 50u);
  EXPECT_EQ(hi, 1000u);
  EXPECT_EQ(s.engine.dialect(), Dialect::ollama_generate);
}

TEST(Scenario, EffectiveScenarioRoundTrips) {
  auto s = parse_scenario(std::string(kMinimal) + "arrival: {mode: gamma, rate: 3, burstiness: 0.5, seed: 7}\n"
                                                  "temperature: 0.2\nrun_deadline: 10m\n",
                          "s.yaml");
  auto again = parse_scenario(to_yaml(s), "effective.yaml");
  EXPECT_EQ(to_yaml(again), to_yaml(s));
  EXPECT_EQ(again.arrival.mode, ArrivalMode::gamma);
  EXPECT_EQ(again.run_deadline, std::chrono::minutes(10));
  auto p = parse_scenario("engine: {kind: openai, url: http://x, model: m, api: completions}\nscenario: protocol\n", "s");
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(p), "e")), to_yaml(p));
}

// ---------------------------------------------------------------- engine.launch

namespace {

// A model file of its own for each test that needs one.
struct ModelFile {
  ModelFile() {
    path = (std::filesystem::temp_directory_path() / ("tierscope-scenario-model-" + std::to_string(::getpid()) + ".gguf"))
               .string();
    std::ofstream(path) << "GGUF";
  }
  ~ModelFile() { std::filesystem::remove(path); }
  std::string path;
};

std::string launch_yaml(const std::string& launch, const std::string& engine_extra = "") {
  return "engine:\n  kind: llamacpp\n" + engine_extra + "  launch:\n" + launch +
         "scenario: context_sweep\ncontexts: [1024, 2048]\n";
}

}  // namespace

TEST(ScenarioLaunch, EveryKey) {
  ModelFile model;
  auto s = parse_scenario(launch_yaml("    argv: [llama-server, -m, \"{model}\", -c, \"{ctx}\", --port, \"{port}\", "
                                      "-ngl, 99]\n"
                                      "    env: {CUDA_VISIBLE_DEVICES: \"0\", LISTEN: \"127.0.0.1:{port}\"}\n"
                                      "    cwd: /tmp\n"
                                      "    ready: llamacpp\n    ready_timeout: 90s\n"
                                      "    stop_signal: SIGINT\n    stop_timeout: 5s\n"
                                      "    restart: per_step\n    model: " +
                                      model.path + "\n"),
                          "s.yaml");
  ASSERT_TRUE(s.engine.launch);
  const LaunchConfig& l = *s.engine.launch;
  EXPECT_EQ(l.spec.argv, (std::vector<std::string>{"llama-server", "-m", "{model}", "-c", "{ctx}", "--port", "{port}",
                                                   "-ngl", "99"}));
  ASSERT_EQ(l.spec.env.size(), 2u);
  EXPECT_EQ(l.spec.env[0], (std::pair<std::string, std::string>{"CUDA_VISIBLE_DEVICES", "0"}));
  EXPECT_EQ(l.spec.env[1].second, "127.0.0.1:{port}");
  EXPECT_EQ(l.spec.cwd, "/tmp");
  EXPECT_EQ(l.spec.ready.kind, ReadyKind::llamacpp);
  EXPECT_EQ(l.spec.ready_timeout, std::chrono::seconds(90));
  EXPECT_EQ(l.spec.stop_signal, SIGINT);
  EXPECT_EQ(l.spec.stop_timeout, std::chrono::seconds(5));
  EXPECT_EQ(l.spec.restart, RestartPolicy::per_step);
  EXPECT_EQ(l.model, model.path);
  // engine.url defaults to the launched engine's port.
  EXPECT_EQ(s.engine.url, "http://127.0.0.1:{port}");
  EXPECT_EQ(l.spec.url, s.engine.url);
  // The effective scenario reads back the same.
  auto again = parse_scenario(to_yaml(s), "effective.yaml");
  EXPECT_EQ(to_yaml(again), to_yaml(s));
  ASSERT_TRUE(again.engine.launch);
  EXPECT_EQ(again.engine.launch->spec.argv, l.spec.argv);
  EXPECT_EQ(again.engine.launch->spec.env, l.spec.env);
  EXPECT_EQ(again.engine.launch->spec.stop_signal, SIGINT);
}

TEST(ScenarioLaunch, DefaultsFollowTheEngineKind) {
  auto s = parse_scenario("engine:\n  kind: ollama\n  model: m\n  url: http://127.0.0.1:{port}/\n"
                          "  launch: {argv: [ollama, serve], env: {OLLAMA_HOST: \"127.0.0.1:{port}\"}}\n"
                          "scenario: protocol\n",
                          "s.yaml");
  ASSERT_TRUE(s.engine.launch);
  EXPECT_EQ(s.engine.url, "http://127.0.0.1:{port}");
  EXPECT_EQ(s.engine.launch->spec.ready.kind, ReadyKind::ollama);
  EXPECT_EQ(s.engine.launch->spec.ready_timeout, std::chrono::seconds(120));
  EXPECT_EQ(s.engine.launch->spec.stop_signal, SIGTERM);
  EXPECT_EQ(s.engine.launch->spec.stop_timeout, std::chrono::seconds(30));
  EXPECT_EQ(s.engine.launch->spec.restart, RestartPolicy::per_run);
  EXPECT_TRUE(s.engine.launch->model.empty());
  auto v = parse_scenario("engine: {kind: vllm, model: m, launch: {argv: [vllm, serve, m]}}\nscenario: protocol\n", "s");
  EXPECT_EQ(v.engine.launch->spec.ready.kind, ReadyKind::vllm);
  auto u = parse_scenario("engine: {kind: openai, model: m, launch: {argv: [srv], ready: \"http://127.0.0.1:{port}/v1/models\"}}\n"
                          "scenario: protocol\n",
                          "s");
  EXPECT_EQ(u.engine.launch->spec.ready.kind, ReadyKind::url);
  EXPECT_EQ(u.engine.launch->spec.ready.url, "http://127.0.0.1:{port}/v1/models");
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(u), "e")), to_yaml(u));
  // Without launch nothing changes.
  EXPECT_FALSE(parse_scenario(kMinimal, "s.yaml").engine.launch);
}

TEST(ScenarioLaunch, BadInputNamesTheKey) {
  ModelFile model;
  auto e = error_of(launch_yaml("    argv: [x]\n    stop_timout: 5s\n"));
  EXPECT_NE(e.find("s.yaml:5:5: engine.launch.stop_timout: unknown key; did you mean \"stop_timeout\"?"),
            std::string::npos)
      << e;
  e = error_of(launch_yaml("    argv: [\"\", -m]\n"));
  EXPECT_NE(e.find("s.yaml:4:12: engine.launch.argv[0]: expected the program"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: []\n"));
  EXPECT_NE(e.find("engine.launch.argv: expected a non-empty list"), std::string::npos) << e;
  e = error_of(launch_yaml("    ready: llamacpp\n"));
  EXPECT_NE(e.find("engine.launch.argv: missing"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x, --port, \"{prot}\"]\n"));
  EXPECT_NE(e.find("s.yaml:4:23: engine.launch.argv[2]: unknown placeholder \"{prot}\""), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x, -m, {model}]\n"));
  EXPECT_NE(e.find("engine.launch.argv[2]: expected an argument (quote placeholders"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x, -m, \"{model}\"]\n"));
  EXPECT_NE(e.find("engine.launch.model: missing ({model} is used in engine.launch.argv[2]"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n    model: /nonexistent/tierscope/model.gguf\n"));
  EXPECT_NE(e.find("s.yaml:5:12: engine.launch.model: \"/nonexistent/tierscope/model.gguf\": No such file or directory"),
            std::string::npos)
      << e;
  e = error_of(launch_yaml("    argv: [x]\n    model: /tmp\n"));
  EXPECT_NE(e.find("engine.launch.model: \"/tmp\" is not a regular file"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n    stop_signal: SIGTREM\n"));
  EXPECT_NE(e.find("did you mean \"SIGTERM\""), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n    restart: per_stpe\n"));
  EXPECT_NE(e.find("did you mean \"per_step\""), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n    ready: llamacp\n"));
  EXPECT_NE(e.find("did you mean \"llamacpp\""), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n    env: {1BAD: x}\n"));
  EXPECT_NE(e.find("engine.launch.env: expected a variable name"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n    ready_timeout: 10ms\n"));
  EXPECT_NE(e.find("engine.launch.ready_timeout: expected"), std::string::npos) << e;
  e = error_of("engine: {kind: openai, model: m, launch: {argv: [srv]}}\nscenario: protocol\n");
  EXPECT_NE(e.find("engine.launch.ready: missing (openai has no health endpoint"), std::string::npos) << e;
  e = error_of("engine: {kind: llamacpp, url: \"http://127.0.0.1:{port}\"}\nscenario: protocol\n");
  EXPECT_NE(e.find("engine.url: {port} needs engine.launch"), std::string::npos) << e;
  e = error_of(launch_yaml("    argv: [x]\n", "  url: \"http://127.0.0.1:{porr}\"\n"));
  EXPECT_NE(e.find("engine.url: unknown placeholder \"{porr}\""), std::string::npos) << e;
  // --set reaches into launch.
  auto s = parse_scenario(launch_yaml("    argv: [x, \"{model}\"]\n    model: /nonexistent\n"), "s.yaml",
                          {parse_override("engine.launch.model=" + model.path)});
  EXPECT_EQ(s.engine.launch->model, model.path);
}

TEST(ScenarioLaunch, RelativeModelPathBecomesAbsolute) {
  ModelFile model;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(std::filesystem::path(model.path).parent_path());
  Scenario s;
  EXPECT_NO_THROW(s = parse_scenario(launch_yaml("    argv: [x]\n    model: ./" +
                                                 std::filesystem::path(model.path).filename().string() + "\n"),
                                     "s.yaml"));
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(s.engine.launch);
  EXPECT_EQ(s.engine.launch->model, model.path);
}

// Every scenario in config/scenarios/ parses; the launch examples with a
// model file the test provides (theirs is a placeholder path).
TEST(Scenario, ShippedScenariosParse) {
  ModelFile model;
  const std::filesystem::path dir = std::filesystem::path(TIERSCOPE_SOURCE_DIR) / "config" / "scenarios";
  std::size_t parsed = 0, launched = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    const YAML::Node doc = YAML::LoadFile(entry.path().string());
    std::vector<Override> overrides;
    const bool has_model = doc["engine"] && doc["engine"]["launch"] && doc["engine"]["launch"]["model"];
    if (has_model) overrides.push_back(parse_override("engine.launch.model=" + model.path));
    Scenario s;
    try {
      s = load_scenario(entry.path().string(), overrides);
    } catch (const ScenarioError& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    ++parsed;
    if (s.engine.launch) ++launched;
    EXPECT_EQ(to_yaml(parse_scenario(to_yaml(s), "effective.yaml")), to_yaml(s)) << entry.path();
  }
  EXPECT_GE(parsed, 6u);
  EXPECT_GE(launched, 3u);
}

// ---------------------------------------------------------------- scenario: soak

namespace {

const char* kSoak = R"(engine: { kind: llamacpp, url: http://127.0.0.1:8080 }
scenario: soak
duration: 2h
idle_tail: 5m
users: 3
prompt_tokens: 256
output_tokens: 32
)";

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


TEST(SoakScenario, RecordSectionDefaultsToTheRunDirectory) {
  Scenario s = parse_scenario(std::string(kSoak) + "record: { compress: zstd, fsync_period: 500ms, segment_age: 10m }\n",
                              "s.yaml");
  ASSERT_NE(s.soak.record, nullptr);
  EXPECT_EQ(s.soak.record->dir, "");  // the run directory
  EXPECT_TRUE(s.soak.record->zstd);
  EXPECT_EQ(s.soak.record->fsync_period, std::chrono::milliseconds(500));
  EXPECT_EQ(s.soak.record->segment_max_age, std::chrono::minutes(10));
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(s), "effective.yaml")), to_yaml(s));
  s = parse_scenario(std::string(kSoak) + "record: { dir: /var/tmp/rec, max_bytes: 1G }\n", "s.yaml");
  EXPECT_EQ(s.soak.record->dir, "/var/tmp/rec");
  EXPECT_EQ(s.soak.record->retention_max_bytes, std::uint64_t{1} << 30);
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(s), "effective.yaml")), to_yaml(s));
  auto e = error_of(std::string(kSoak) + "record: { compress: lz4 }\n");
  EXPECT_TRUE(has(e, "s.yaml:8:21: record.compress: expected")) << e;
}

TEST(Scenario, SloIsTheReportsLatencyObjective) {
  auto s = parse_scenario(std::string(kMinimal) + "slo: {ttft_ms: 1500, tpot_ms: 80.5}\n", "s.yaml");
  ASSERT_TRUE(s.slo);
  EXPECT_EQ(s.slo->ttft_ms, 1500.0);
  EXPECT_EQ(s.slo->tpot_ms, 80.5);
  EXPECT_EQ(to_yaml(parse_scenario(to_yaml(s), "e")), to_yaml(s));  // the effective scenario keeps it
  auto only_ttft = parse_scenario(std::string(kMinimal) + "slo: {ttft_ms: 2000}\n", "s.yaml");
  ASSERT_TRUE(only_ttft.slo);
  EXPECT_FALSE(only_ttft.slo->tpot_ms);
  EXPECT_FALSE(parse_scenario(kMinimal, "s.yaml").slo);
  EXPECT_NE(error_of(std::string(kMinimal) + "slo: {ttft_ms: 0}\n").find("s.yaml:9:16: slo.ttft_ms: expected"),
            std::string::npos)
      << error_of(std::string(kMinimal) + "slo: {ttft_ms: 0}\n");
  EXPECT_NE(error_of(std::string(kMinimal) + "slo: {ttft: 10}\n").find("slo.ttft: unknown key (expected one of: ttft_ms, tpot_ms)"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "slo: 2000\n").find("slo: expected a mapping"), std::string::npos);
}
