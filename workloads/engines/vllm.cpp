#include "workloads/engines/vllm.h"

#include <atomic>

#include <nlohmann/json.hpp>

#include "workloads/engine_facts.h"
#include "workloads/engines/openai.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

// Error strings, lowercased. Each names where it comes from. (vLLM's
// "maximum context length" wording is OpenAI's: engines/openai.cpp.)

// Context overflow.
constexpr std::string_view kContextStrings[] = {
    // vLLM (processor / llm_engine): "The decoder prompt (length %d) is longer
    // than the maximum model length of %d. Make sure that `max_model_len` …".
    "longer than the maximum model length",
};

// Out of memory: device or host.
constexpr std::string_view kOomStrings[] = {
    // PyTorch: torch.OutOfMemoryError / torch.cuda.OutOfMemoryError (vLLM);
    // Metal: kIOGPUCommandBufferCallbackErrorOutOfMemory (llama.cpp on Apple).
    "outofmemory",
    // vLLM (worker / kv_cache_utils): "No available memory for the cache
    // blocks. Try increasing `gpu_memory_utilization` …".
    "no available memory for the cache blocks",
};

// POST /tokenize: vLLM reads "prompt" (and the model), llama.cpp's "content" is kept.
std::string tokenize_body(const EngineConfig& engine, const std::string& text) {
  json body{{"content", text}};
  body["prompt"] = text;
  if (!engine.model.empty()) body["model"] = engine.model;
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void describe(const Scenario& sc, const std::atomic<bool>&, json& e) {
  auto v = get_engine_json(sc.engine, "/version");
  if (v.is_object() && v.contains("version")) e["version"] = v["version"];
}

json sample(const EngineConfig& engine) { return sample_prometheus(engine, "vllm:"); }

}  // namespace

constinit const EngineDescriptor kVllmEngine{
    .kind = EngineKind::vllm,
    .name = "vllm",
    .apis = kOpenAiApis,
    .needs_model = true,
    .ignore_eos_by_default = true,
    .errors = {.context_overflow = kContextStrings, .oom = kOomStrings, .engine_down = {}},
    .prompt_sizing = PromptSizing::tokenizer_or_calibration,
    .tokenize_body = &tokenize_body,
    .describe = &describe,
    .sample = &sample,
    .sample_before_step = false,
    .size_request = nullptr,
    .prompt_cut = nullptr,
};

}  // namespace tierscope::workloads
