#pragma once
// One EngineDescriptor per engine kind (llamacpp, ollama, vllm, openai): what
// the benchmark does differently per engine, each defined in that engine's
// file under workloads/engines/ and found through engine_descriptor(). The
// rest of the benchmark asks the descriptor and never names an engine:
//   - the scenario's engine.api values and the dialect each selects;
//   - scenario defaults (engine.model required, ignore_eos);
//   - the engine's own error strings, one list per outcome; classification
//     (engine_stream.h) matches the union over all engines;
//   - how prompts of N tokens are sized (a /tokenize endpoint, or calibration);
//   - facts before the run (readiness, version, properties) and its metrics
//     around each step (engine_facts.h does the deltas);
//   - per-request sizing of the generation request and a check that the
//     engine kept the whole prompt.
// Dialects (request path, body, framing, interpretation) are in dialect.h.
//
// Threading: descriptors are constants, usable from any thread; the function
// pointers that do I/O block the calling thread.

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "workloads/engines/dialect.h"
#include "workloads/scenario.h"

namespace tierscope::workloads {

// A value of the scenario's engine.api and the dialect it selects.
struct ApiChoice {
  std::string_view api;
  Dialect dialect;
};

// The engine's own words for its errors, lowercased, matched as substrings of
// the lowercased message, type and code. Each string's source comment is
// beside it in the engine's file.
struct ErrorStrings {
  std::span<const std::string_view> context_overflow;
  std::span<const std::string_view> oom;
  std::span<const std::string_view> engine_down;
};

// How prompts of exactly N tokens are built (workloads/prompts.h).
enum class PromptSizing {
  tokenizer,                 // POST /tokenize; a failure there is an error
  tokenizer_or_calibration,  // POST /tokenize when it answers, else calibration
  calibration,               // two probe requests fit tokens = a + b·words
};

// What one request is sized from.
struct RequestSizing {
  std::string_view prompt_text;
  std::uint32_t prompt_tokens = 0;  // the target; 0 for protocol prompts
  std::uint32_t max_tokens = 0;
};

// The prompt counts of a finished request, for an engine's check that it
// kept the whole prompt.
struct PromptReport {
  std::uint32_t target_tokens = 0;                     // 0 for protocol prompts
  std::optional<std::uint64_t> counted_tokens;         // the tokenizer's count of the text sent
  std::optional<std::uint64_t> engine_prompt_tokens;   // the engine's timings (EngineTimings::prompt_tokens)
  std::optional<std::uint64_t> usage_prompt_tokens;    // the engine's usage / token counts
};

struct EngineDescriptor {
  EngineKind kind;
  std::string_view name;          // engine.kind in the scenario and summary.json
  std::span<const ApiChoice> apis;  // engine.api values; the first is the default
  bool needs_model;               // engine.model must be given
  bool ignore_eos_by_default;     // the scenario's ignore_eos when not given
  ErrorStrings errors;
  PromptSizing prompt_sizing;
  // The POST /tokenize body counting `text`; null unless prompt_sizing uses a tokenizer.
  std::string (*tokenize_body)(const EngineConfig& engine, const std::string& text);
  // Adds the engine's facts (version, context size, …) to summary.json
  // "engine". Blocks; waits for readiness where the engine has a health
  // endpoint (up to the scenario's health_timeout, or until `stop`). Throws
  // std::runtime_error when the engine is down or not ready.
  void (*describe)(const Scenario& scenario, const std::atomic<bool>& stop, nlohmann::json& facts);
  // The engine's state (steps[].engine_metrics): null json when it has no
  // such endpoint or it did not answer. Never throws. Null: none.
  nlohmann::json (*sample)(const EngineConfig& engine);
  // Sample before each step as well: the step records before, after and the
  // deltas of the counters (engine_facts.h). False: after the step only.
  bool sample_before_step;
  // Adjusts a generation request to the engine (e.g. its context window).
  // Null: nothing to adjust.
  void (*size_request)(const EngineConfig& engine, const RequestSizing& sizing, GenerationRequest& request);
  // Why the engine's counts show it cut the prompt short; nullopt when it
  // kept it. Null: the engine reports truncation itself (or cannot tell).
  std::optional<std::string> (*prompt_cut)(const PromptReport& report);
};

// In EngineKind order.
std::span<const EngineDescriptor* const> all_engines();
const EngineDescriptor& engine_descriptor(EngineKind kind);
// The descriptor whose name is `name`; null when none.
const EngineDescriptor* engine_by_name(std::string_view name);

// The dialect `api` selects for the engine; the default API's when `api` is
// not one of the engine's.
Dialect dialect_of(const EngineDescriptor& engine, std::string_view api);

// "Content-Type: application/json" and, with an api_key, the bearer token.
std::vector<std::string> engine_headers(const EngineConfig& engine);

}  // namespace tierscope::workloads
