// The engine files (workloads/engines/): the dialect table and the engine
// descriptors are complete and consistent, every engine's error strings
// classify as their own outcome, and the per-engine request sizing and
// prompt check (Ollama) do what the descriptors promise.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "workloads/engine_stream.h"
#include "workloads/engines/engine.h"
#include "workloads/engines/ollama.h"
#include "workloads/request_state.h"

using namespace tierscope::workloads;
using nlohmann::json;

TEST(Engines, DialectTableIsIndexedByDialect) {
  for (Dialect d : kAllDialects) {
    const DialectSpec& spec = dialect_spec(d);
    EXPECT_EQ(spec.dialect, d);
    EXPECT_EQ(dialect_from_string(spec.name), d);
    EXPECT_TRUE(spec.path.starts_with("/")) << spec.name;
    EXPECT_EQ(uses_sse(d), spec.framing == Framing::sse) << spec.name;
    ASSERT_NE(spec.build_body, nullptr);
    ASSERT_NE(spec.interpret, nullptr);
  }
}

TEST(Engines, DescriptorsAreIndexedByKindAndComplete) {
  ASSERT_EQ(all_engines().size(), 4u);
  for (EngineKind k : {EngineKind::llamacpp, EngineKind::ollama, EngineKind::vllm, EngineKind::openai}) {
    const EngineDescriptor& e = engine_descriptor(k);
    EXPECT_EQ(e.kind, k);
    EXPECT_EQ(e.name, to_string(k));
    EXPECT_EQ(engine_by_name(e.name), &e);
    ASSERT_FALSE(e.apis.empty()) << e.name;
    EXPECT_EQ(dialect_of(e, "no such api"), e.apis.front().dialect) << "the default API";
    for (const ApiChoice& a : e.apis) EXPECT_EQ(dialect_of(e, a.api), a.dialect);
    EXPECT_NE(e.describe, nullptr) << e.name;
    EXPECT_EQ(e.tokenize_body != nullptr, e.prompt_sizing != PromptSizing::calibration) << e.name;
    EXPECT_EQ(e.sample_before_step && !e.sample, false) << e.name;
  }
  EXPECT_EQ(engine_by_name("tgi"), nullptr);
  EXPECT_EQ(dialect_of(engine_descriptor(EngineKind::llamacpp), "chat"), Dialect::openai_chat);
  EXPECT_EQ(dialect_of(engine_descriptor(EngineKind::ollama), "chat"), Dialect::ollama_chat);
  EXPECT_EQ(dialect_of(engine_descriptor(EngineKind::vllm), "completions"), Dialect::openai_completions);
}

// Each engine's strings are lowercase (the text is lowercased before matching)
// and, alone, classify as their own outcome: a string of a later category
// that contained one of an earlier category could never match.
TEST(Engines, EveryErrorStringClassifiesAsItsOwnOutcome) {
  std::size_t strings = 0;
  for (const EngineDescriptor* e : all_engines()) {
    const std::pair<std::span<const std::string_view>, Outcome> lists[] = {
        {e->errors.context_overflow, Outcome::context_overflow},
        {e->errors.oom, Outcome::oom},
        {e->errors.engine_down, Outcome::engine_down}};
    for (const auto& [list, outcome] : lists)
      for (std::string_view s : list) {
        ++strings;
        EXPECT_FALSE(s.empty()) << e->name;
        for (char c : s) EXPECT_FALSE(c >= 'A' && c <= 'Z') << e->name << ": " << s;
        EngineError err;
        err.message = "prefix " + std::string(s) + " suffix";
        EXPECT_EQ(to_string(classify_engine_error(500, err)), to_string(outcome)) << e->name << ": " << s;
      }
  }
  EXPECT_EQ(strings, 29u) << "every string of the engines, each once";
}

TEST(Engines, OllamaSizesNumCtxPerRequestUnlessTheScenarioDoes) {
  // Two tokens per word of the text beats a smaller target: 10 spaces → 36.
  EXPECT_EQ(ollama_num_ctx({"a b c d e f g h i j k", 20, 30}), 36u + 30 + 64);
  EXPECT_EQ(ollama_num_ctx({"a b", 1000, 30}), 1000u + 30 + 64);
  Scenario sc = parse_scenario("engine: {kind: ollama, url: http://x, model: m}\nscenario: protocol\n", "s.yaml");
  RequestPlan p;
  p.built.text = "one two three";
  p.prompt_tokens = 500;
  p.max_tokens = 10;
  const EngineDescriptor& ollama = engine_descriptor(EngineKind::ollama);
  HttpRequest req = make_http_request(sc, ollama, p);
  EXPECT_EQ(req.url, "http://x/api/generate");
  json body = json::parse(req.body);
  EXPECT_EQ(body["options"]["num_ctx"], 574);
  EXPECT_FALSE(body.contains("ignore_eos"));
  sc.engine.num_ctx = 8192;
  EXPECT_EQ(json::parse(make_http_request(sc, ollama, p).body)["options"]["num_ctx"], 8192);
  // llama.cpp: no context option, ignore_eos by default.
  Scenario l = parse_scenario("engine: {kind: llamacpp, url: http://y}\nscenario: protocol\n", "s.yaml");
  HttpRequest lreq = make_http_request(l, engine_descriptor(EngineKind::llamacpp), p);
  EXPECT_EQ(lreq.url, "http://y/completion");
  json lbody = json::parse(lreq.body);
  EXPECT_EQ(lbody["ignore_eos"], true);
  EXPECT_EQ(lbody["n_predict"], 10);
  EXPECT_FALSE(lbody.contains("options"));
}

TEST(Engines, OllamaPromptCutCheck) {
  const auto cut = engine_descriptor(EngineKind::ollama).prompt_cut;
  ASSERT_NE(cut, nullptr);
  // Tolerance: max(4, target / 50).
  EXPECT_FALSE(cut({1000, std::nullopt, 980, 980}));
  auto why = cut({1000, std::nullopt, 979, 979});
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "prompt_eval_count 979 < 1000 prompt tokens sent: Ollama cut the prompt to num_ctx");
  EXPECT_TRUE(cut({1000, 1100, 1000, std::nullopt})) << "the tokenizer's count is the target when known";
  EXPECT_FALSE(cut({0, std::nullopt, 1, 1})) << "protocol prompts are not checked";
  EXPECT_FALSE(cut({1000, std::nullopt, std::nullopt, std::nullopt})) << "no count: nothing to tell";
  for (EngineKind k : {EngineKind::llamacpp, EngineKind::vllm, EngineKind::openai})
    EXPECT_EQ(engine_descriptor(k).prompt_cut, nullptr);
}
