// The scenario file parser: strict keys, messages with file:line:col, --set overrides.
#include <gtest/gtest.h>

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
