#include "workloads/engines/ollama.h"

#include <algorithm>
#include <atomic>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "workloads/engine_facts.h"
#include "workloads/engine_stream.h"
#include "workloads/engines/openai.h"
#include "workloads/http_stream.h"
#include "workloads/json_fields.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

using namespace json_fields;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Ollama /api/generate and /api/chat line:
//   {"response":"Hi","done":false}  or  {"message":{"role":"assistant","content":"Hi"},"done":false}
// and the last one: "done":true,"done_reason":"stop|length|load",
// "prompt_eval_count","prompt_eval_duration","eval_count","eval_duration",
// "load_duration","total_duration" (durations in ns); or {"error":"…"}.
void interpret_ollama(const json& j, StreamMessage& out) {
  out.error = engine_error_in(j);
  bool ok = append_text(j, "response", out.content);
  ok = append_text(j, "thinking", out.reasoning) && ok;
  if (const json* message = member(j, "message"); message && !message->is_null()) {
    if (!message->is_object()) {
      ok = false;
    } else {
      ok = append_text(*message, "content", out.content) && ok;
      ok = append_text(*message, "thinking", out.reasoning) && ok;
    }
  }
  if (const json* done = member(j, "done")) {
    if (done->is_boolean()) {
      out.done = done->get<bool>();
    } else {
      ok = false;
    }
  }
  if (const std::string* reason = string_member(j, "done_reason")) out.finish_reason = *reason;
  out.prompt_tokens = count_member(j, "prompt_eval_count");
  out.output_tokens = count_member(j, "eval_count");
  out.timings.prompt_tokens = out.prompt_tokens;
  out.timings.generated_tokens = out.output_tokens;
  out.timings.prompt_ms = nanoseconds_as_ms(j, "prompt_eval_duration");
  out.timings.generation_ms = nanoseconds_as_ms(j, "eval_duration");
  out.timings.load_ms = nanoseconds_as_ms(j, "load_duration");
  out.timings.total_ms = nanoseconds_as_ms(j, "total_duration");
  if (!ok) out.malformed = true;
}

void add_ollama_common(const GenerationRequest& r, json& body) {
  body["model"] = r.model;
  body["stream"] = true;
  json options = json::object();
  if (r.num_ctx) options["num_ctx"] = *r.num_ctx;
  options["num_predict"] = r.max_tokens;
  if (r.temperature) options["temperature"] = *r.temperature;
  if (r.seed) options["seed"] = *r.seed;
  body["options"] = std::move(options);
  if (r.keep_alive) {
    // Ollama reads a number as seconds and a string as a Go duration ("5m");
    // a bare "-1" is not a valid Go duration, so integers go as numbers.
    if (auto seconds = text::parse_i64(*r.keep_alive)) {
      body["keep_alive"] = *seconds;
    } else {
      body["keep_alive"] = *r.keep_alive;
    }
  }
}

// Error strings, lowercased. Each names where it comes from.

// Context overflow.
constexpr std::string_view kContextStrings[] = {
    // Ollama with truncation off: "input length exceeds the context length",
    // "input exceeds maximum context length".
    "exceeds the context length",
    "exceeds maximum context length",
};

// Out of memory: device or host.
constexpr std::string_view kOomStrings[] = {
    // llama.cpp model load via Ollama: "error loading model: unable to
    // allocate CUDA0 buffer" / "unable to allocate backend buffer".
    "unable to allocate",
    // Metal: "Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)";
    // Ollama (newer load errors): "insufficient memory", "not enough memory",
    // "allocation failed".
    "insufficient memory",
    "not enough memory",
    "allocation failed",
    // Ollama llm/server.go: "model requires more system memory (%s) than is available (%s)".
    "model requires more system memory",
};

// The engine is not there to serve.
constexpr std::string_view kEngineDownStrings[] = {
    // Ollama: "llama runner process has terminated: exit status …" and
    // "llama runner process no longer running: …" (no memory wording: see above).
    // (A runner that died of memory says so: the out-of-memory strings, here
    // and in the other engines' files, are checked first.)
    "runner process has terminated",
    "runner process no longer running",
};

constexpr ApiChoice kApis[] = {{"generate", Dialect::ollama_generate}, {"chat", Dialect::ollama_chat}};

void describe(const Scenario& sc, const std::atomic<bool>&, json& e) {
  auto v = get_engine_json(sc.engine, "/api/version");
  if (v.is_object() && v.contains("version")) e["version"] = v["version"];
}

// GET /api/ps: per loaded model its name, model, size, size_vram, context_length.
json sample(const EngineConfig& engine) {
  auto r = http_get(engine.url + "/api/ps", std::chrono::seconds(5));
  if (r.result.outcome != TransferOutcome::ok) return nullptr;
  auto j = json::parse(r.body, nullptr, false);
  json out = json::array();
  if (j.is_object() && j.contains("models") && j["models"].is_array())
    for (const auto& m : j["models"]) {
      json o;
      for (auto k : {"name", "model", "size", "size_vram", "context_length"})
        if (m.contains(k)) o[k] = m[k];
      out.push_back(o);
    }
  return out;
}

// options.num_ctx: the scenario's engine.num_ctx, else ollama_num_ctx().
void size_request(const EngineConfig& engine, const RequestSizing& sizing, GenerationRequest& g) {
  g.num_ctx = engine.num_ctx ? *engine.num_ctx : ollama_num_ctx(sizing);
}

// Ollama cuts a prompt longer than num_ctx from the front without an error:
// its prompt_eval_count (the tokens it kept) falls short of what was sent.
std::optional<std::string> prompt_cut(const PromptReport& p) {
  if (p.target_tokens == 0) return std::nullopt;
  auto seen = p.engine_prompt_tokens ? p.engine_prompt_tokens : p.usage_prompt_tokens;
  const std::uint64_t target = p.counted_tokens.value_or(p.target_tokens);
  const std::uint64_t tolerance = std::max<std::uint64_t>(4, target / 50);
  if (seen && *seen + tolerance < target)
    return "prompt_eval_count " + std::to_string(*seen) + " < " + std::to_string(target) +
           " prompt tokens sent: Ollama cut the prompt to num_ctx";
  return std::nullopt;
}

}  // namespace

std::uint32_t ollama_num_ctx(const RequestSizing& s) {
  std::uint64_t words = 0;
  for (char c : s.prompt_text) words += c == ' ';
  std::uint64_t need = std::max<std::uint64_t>(s.prompt_tokens, words * 2 + 16) + s.max_tokens + 64;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(need, 0xffffffffu));
}

std::string build_ollama_generate_body(const GenerationRequest& r) {
  json body = json::object();
  add_ollama_common(r, body);
  body["prompt"] = r.prompt;
  if (!r.system.empty()) body["system"] = r.system;
  if (r.raw) body["raw"] = true;
  return dump(body);
}

std::string build_ollama_chat_body(const GenerationRequest& r) {
  json body = json::object();
  add_ollama_common(r, body);
  body["messages"] = openai_chat_messages(r);
  return dump(body);
}

constinit const DialectSpec kOllamaGenerate{
    .dialect = Dialect::ollama_generate,
    .name = "ollama_generate",
    .path = "/api/generate",
    .framing = Framing::ndjson,
    .build_body = &build_ollama_generate_body,
    .interpret = &interpret_ollama,
};

constinit const DialectSpec kOllamaChat{
    .dialect = Dialect::ollama_chat,
    .name = "ollama_chat",
    .path = "/api/chat",
    .framing = Framing::ndjson,
    .build_body = &build_ollama_chat_body,
    .interpret = &interpret_ollama,
};

constinit const EngineDescriptor kOllamaEngine{
    .kind = EngineKind::ollama,
    .name = "ollama",
    .apis = kApis,
    .needs_model = true,
    .ignore_eos_by_default = false,
    .errors = {.context_overflow = kContextStrings, .oom = kOomStrings, .engine_down = kEngineDownStrings},
    .prompt_sizing = PromptSizing::calibration,
    .tokenize_body = nullptr,
    .describe = &describe,
    .sample = &sample,
    .sample_before_step = false,
    .size_request = &size_request,
    .prompt_cut = &prompt_cut,
};

}  // namespace tierscope::workloads
