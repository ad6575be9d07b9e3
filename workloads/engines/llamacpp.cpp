#include "workloads/engines/llamacpp.h"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "workloads/engine_facts.h"
#include "workloads/engine_stream.h"
#include "workloads/http_stream.h"
#include "workloads/json_fields.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

using namespace json_fields;

// llama.cpp native /completion chunk:
//   {"content":"Hi","stop":false,"tokens_predicted":3,"tokens_evaluated":12}
// and the last one: "stop":true,"stop_type":"eos|limit|word","truncated":…,
// "timings":{"prompt_n","prompt_ms","predicted_n","predicted_ms",…}.
void interpret_llamacpp(const json& j, StreamMessage& out) {
  out.error = engine_error_in(j);
  if (!append_text(j, "content", out.content)) out.malformed = true;
  if (const json* stop = member(j, "stop")) {
    if (stop->is_boolean()) {
      out.done = stop->get<bool>();
    } else {
      out.malformed = true;
    }
  }
  if (out.done) {
    if (const std::string* type = string_member(j, "stop_type")) out.finish_reason = *type;
  }
  if (const json* t = member(j, "truncated"); t && t->is_boolean()) out.truncated = t->get<bool>();
  out.output_tokens = count_member(j, "tokens_predicted");
  out.prompt_tokens = count_member(j, "tokens_evaluated");
  read_llamacpp_timings(j, out);
}

// Error strings, lowercased. Each names where it comes from.

// Context overflow.
constexpr std::string_view kContextStrings[] = {
    // llama.cpp tools/server (server-context.cpp, utils.hpp): error type of
    // ERROR_TYPE_EXCEED_CONTEXT_SIZE, HTTP 400 and in `error:` stream lines.
    "exceed_context_size_error",
    // llama.cpp server: "request (%d tokens) exceeds the available context
    // size (%d tokens), try increasing it"; older builds: "the request exceeds
    // the available context size, try increasing it" / "... or enable context shift".
    "exceeds the available context size",
    // llama.cpp server-context.cpp variant: "request (%d tokens) exceeds context size (%d tokens)".
    "exceeds context size",
    // llama.cpp (2024): "input (%d tokens) is larger than the max context size (%d tokens). skipping".
    "larger than the max context size",
    // llama.cpp server, llama_decode found no KV slot: "Input prompt is too big
    // compared to KV size. Please try increasing KV size." (HTTP 500). The
    // configured context's KV cache is full: a context wall, not device memory.
    "too big compared to kv size",
};

// Out of memory: device or host.
constexpr std::string_view kOomStrings[] = {
    // ggml-cuda CUDA_CHECK → ggml_cuda_error: "CUDA error: out of memory";
    // ggml_backend_cuda_buffer_type_alloc_buffer: "cudaMalloc failed: out of
    // memory" (also through Ollama: "llama runner process has terminated: …");
    // PyTorch/vLLM: "CUDA out of memory. Tried to allocate …"; HIP builds:
    // "hipMalloc failed: out of memory".
    "out of memory",
    // Vulkan (ggml-vulkan): vk::Result ErrorOutOfDeviceMemory /
    // VK_ERROR_OUT_OF_DEVICE_MEMORY, "out of device memory".
    "outofdevicememory",
    "out_of_device_memory",
    "out of device memory",
    // ggml-vulkan: "ggml_vulkan: Device memory allocation of size %zu failed."
    "device memory allocation of size",
    // ggml/llama.cpp: "alloc_tensor_range: failed to allocate CUDA0 buffer of
    // size …", "failed to allocate buffer for kv cache", "failed to allocate
    // compute buffers"; Ollama's load-error check matches the same words.
    "failed to allocate",
    // ggml-cuda without the cudaGetErrorString text.
    "cudamalloc failed",
    "hipmalloc failed",
};

// The engine is not there to serve.
constexpr std::string_view kEngineDownStrings[] = {
    // llama.cpp server while the model loads: HTTP 503
    // {"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}.
    "unavailable_error",
    "loading model",
};

constexpr ApiChoice kApis[] = {{"completion", Dialect::llamacpp_completion},
                               {"chat", Dialect::openai_chat},
                               {"completions", Dialect::openai_completions}};

// POST /tokenize {"content": text}.
std::string tokenize_body(const EngineConfig&, const std::string& text) {
  return json{{"content", text}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Waits for GET /health to answer 200 (503 while the model loads), up to the
// scenario's health_timeout or until `stop`.
void wait_until_healthy(const Scenario& sc, const std::atomic<bool>& stop) {
  auto until = SteadyClock::now() + sc.health_timeout;
  std::string last;
  while (true) {
    auto r = http_get(sc.engine.url + "/health", std::chrono::seconds(5));
    if (r.result.http_status == 200) return;
    last = r.result.http_status ? "HTTP " + std::to_string(r.result.http_status) + " " + extract_engine_error(r.body).message
                                : r.result.error;
    if (SteadyClock::now() >= until || stop.load())
      throw std::runtime_error("engine not ready: GET " + sc.engine.url + "/health did not answer 200 within " +
                               std::to_string(sc.health_timeout.count()) + " ms (last: " + last + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// /health, then GET /props: n_ctx (top level or default_generation_settings),
// build_info, model_path.
void describe(const Scenario& sc, const std::atomic<bool>& stop, json& e) {
  wait_until_healthy(sc, stop);
  auto props = get_engine_json(sc.engine, "/props");
  if (!props.is_object()) return;
  if (props.contains("n_ctx")) e["n_ctx"] = props["n_ctx"];
  else if (props.contains("default_generation_settings") && props["default_generation_settings"].contains("n_ctx"))
    e["n_ctx"] = props["default_generation_settings"]["n_ctx"];
  if (props.contains("build_info")) e["build_info"] = props["build_info"];
  if (props.contains("model_path")) e["model_path"] = props["model_path"];
}

json sample(const EngineConfig& engine) { return sample_prometheus(engine, "llamacpp:"); }

}  // namespace

void read_llamacpp_timings(const json& j, StreamMessage& out) {
  const json* t = member(j, "timings");
  if (!t || !t->is_object()) return;
  out.timings.prompt_tokens = count_member(*t, "prompt_n");
  out.timings.prompt_ms = number_member(*t, "prompt_ms");
  out.timings.generated_tokens = count_member(*t, "predicted_n");
  out.timings.generation_ms = number_member(*t, "predicted_ms");
}

std::string build_llamacpp_completion_body(const GenerationRequest& r) {
  json body = json::object();
  if (!r.model.empty()) body["model"] = r.model;  // used by llama-server's router mode only
  body["prompt"] = r.prompt;
  body["stream"] = true;
  body["n_predict"] = r.max_tokens;
  body["cache_prompt"] = false;
  if (r.temperature) body["temperature"] = *r.temperature;
  if (r.seed) body["seed"] = *r.seed;
  if (r.ignore_eos) body["ignore_eos"] = true;
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

constinit const DialectSpec kLlamaCppCompletion{
    .dialect = Dialect::llamacpp_completion,
    .name = "llamacpp_completion",
    .path = "/completion",
    .framing = Framing::sse,
    .build_body = &build_llamacpp_completion_body,
    .interpret = &interpret_llamacpp,
};

constinit const EngineDescriptor kLlamaCppEngine{
    .kind = EngineKind::llamacpp,
    .name = "llamacpp",
    .apis = kApis,
    .needs_model = false,
    .ignore_eos_by_default = true,
    .errors = {.context_overflow = kContextStrings, .oom = kOomStrings, .engine_down = kEngineDownStrings},
    .prompt_sizing = PromptSizing::tokenizer,
    .tokenize_body = &tokenize_body,
    .describe = &describe,
    .sample = &sample,
    .sample_before_step = true,
    .size_request = nullptr,
    .prompt_cut = nullptr,
};

}  // namespace tierscope::workloads
