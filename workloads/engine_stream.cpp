#include "workloads/engine_stream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/text.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------
// JSON access that never throws.

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const std::string* string_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get_ptr<const std::string*>() : nullptr;
}

std::optional<std::uint64_t> count_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  if (!v) return std::nullopt;
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer()) {
    const auto i = v->get<std::int64_t>();
    if (i >= 0) return static_cast<std::uint64_t>(i);
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (d >= 0 && d < 1.8e19 && d == std::floor(d)) return static_cast<std::uint64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> number_member(const json& object, std::string_view key) {
  const json* v = member(object, key);
  if (!v || !v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<double> nanoseconds_as_ms(const json& object, std::string_view key) {
  if (auto ns = number_member(object, key)) return *ns / 1e6;
  return std::nullopt;
}

// Appends a string member to `out`; false when the member is there but not a
// string or null (an unexpected shape).
bool append_text(const json& object, std::string_view key, std::string& out) {
  const json* v = member(object, key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out += v->get_ref<const std::string&>();
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// At most kMaxErrorMessageBytes of valid UTF-8 (invalid bytes become U+FFFD,
// which may lengthen the text: cut again at a character boundary).
std::string bounded_message(std::string_view s) {
  std::string out(s.substr(0, kMaxErrorMessageBytes));
  text::make_valid_utf8(out);
  if (out.size() > kMaxErrorMessageBytes) {
    std::size_t cut = kMaxErrorMessageBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The error fields of an error object: {"message":…,"type":…,"code":…}.
EngineError error_from_object(const json& object) {
  EngineError e;
  if (const json* m = member(object, "message")) e.message = bounded_message(scalar_text(*m));
  if (const json* t = member(object, "type")) e.type = bounded_message(scalar_text(*t));
  if (const json* c = member(object, "code")) e.code = bounded_message(scalar_text(*c));
  e.n_prompt_tokens = count_member(object, "n_prompt_tokens");
  e.n_ctx = count_member(object, "n_ctx");
  return e;
}

// The error in a parsed body or stream message, if it carries one.
std::optional<EngineError> error_in(const json& j) {
  if (const json* err = member(j, "error")) {
    if (err->is_object()) {
      EngineError e = error_from_object(*err);
      if (e.message.empty()) e.message = bounded_message(err->dump(-1, ' ', false, json::error_handler_t::replace));
      return e;
    }
    if (err->is_null()) return std::nullopt;  // some servers send "error": null
    EngineError e;
    e.message = bounded_message(scalar_text(*err));
    return e;
  }
  return std::nullopt;
}

void read_llamacpp_timings(const json& j, StreamMessage& out) {
  const json* t = member(j, "timings");
  if (!t || !t->is_object()) return;
  out.timings.prompt_tokens = count_member(*t, "prompt_n");
  out.timings.prompt_ms = number_member(*t, "prompt_ms");
  out.timings.generated_tokens = count_member(*t, "predicted_n");
  out.timings.generation_ms = number_member(*t, "predicted_ms");
}

void finish_content(StreamMessage& out) { out.carries_content = !out.content.empty() || !out.reasoning.empty(); }

// OpenAI-compatible chunk (vLLM, llama.cpp /v1, Ollama /v1, OpenAI):
//   {"choices":[{"index":0,"delta":{"content":"Hi","reasoning_content":…},
//                "text":…,"finish_reason":null}], "usage":{…}|null}
// The final usage chunk has "choices": [] (OpenAI, vLLM) or the last choice
// (llama.cpp, which also adds its "timings").
void interpret_openai(const json& j, StreamMessage& out) {
  out.error = error_in(j);
  if (const json* choices = member(j, "choices"); choices && !choices->is_null()) {
    if (!choices->is_array()) {
      out.malformed = true;
    } else if (!choices->empty()) {
      const json& choice = choices->front();
      if (!choice.is_object()) {
        out.malformed = true;
      } else {
        bool ok = append_text(choice, "text", out.content);
        if (const json* delta = member(choice, "delta"); delta && !delta->is_null()) {
          if (!delta->is_object()) {
            ok = false;
          } else {
            ok = append_text(*delta, "content", out.content) && ok;
            // llama.cpp and older vLLM: reasoning_content; vLLM >= 0.10: reasoning.
            ok = append_text(*delta, "reasoning_content", out.reasoning) && ok;
            ok = append_text(*delta, "reasoning", out.reasoning) && ok;
          }
        }
        if (const std::string* reason = string_member(choice, "finish_reason")) {
          out.finish_reason = *reason;
          out.done = true;
        }
        if (!ok) out.malformed = true;
      }
    }
  }
  if (const json* usage = member(j, "usage"); usage && usage->is_object()) {
    out.prompt_tokens = count_member(*usage, "prompt_tokens");
    out.output_tokens = count_member(*usage, "completion_tokens");
  }
  read_llamacpp_timings(j, out);
}

// llama.cpp native /completion chunk:
//   {"content":"Hi","stop":false,"tokens_predicted":3,"tokens_evaluated":12}
// and the last one: "stop":true,"stop_type":"eos|limit|word","truncated":…,
// "timings":{"prompt_n","prompt_ms","predicted_n","predicted_ms",…}.
void interpret_llamacpp(const json& j, StreamMessage& out) {
  out.error = error_in(j);
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

// Ollama /api/generate and /api/chat line:
//   {"response":"Hi","done":false}  or  {"message":{"role":"assistant","content":"Hi"},"done":false}
// and the last one: "done":true,"done_reason":"stop|length|load",
// "prompt_eval_count","prompt_eval_duration","eval_count","eval_duration",
// "load_duration","total_duration" (durations in ns); or {"error":"…"}.
void interpret_ollama(const json& j, StreamMessage& out) {
  out.error = error_in(j);
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

template <std::size_t N>
bool contains_any(std::string_view haystack, const std::string_view (&needles)[N]) {
  return std::any_of(std::begin(needles), std::end(needles),
                     [&](std::string_view n) { return haystack.find(n) != std::string_view::npos; });
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// ---------------------------------------------------------------------------
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
    // vLLM (serving_engine.py) and OpenAI: "This model's maximum context length
    // is %d tokens. However, you requested %d tokens …", and "'max_tokens' or
    // 'max_completion_tokens' is too large: %d. This model's maximum context length is …".
    "maximum context length",
    // OpenAI error code.
    "context_length_exceeded",
    // vLLM (processor / llm_engine): "The decoder prompt (length %d) is longer
    // than the maximum model length of %d. Make sure that `max_model_len` …".
    "longer than the maximum model length",
    // Ollama with truncation off: "input length exceeds the context length",
    // "input exceeds maximum context length".
    "exceeds the context length",
    "exceeds maximum context length",
};

// Out of memory: device or host.
constexpr std::string_view kOomStrings[] = {
    // ggml-cuda CUDA_CHECK → ggml_cuda_error: "CUDA error: out of memory";
    // ggml_backend_cuda_buffer_type_alloc_buffer: "cudaMalloc failed: out of
    // memory" (also through Ollama: "llama runner process has terminated: …");
    // PyTorch/vLLM: "CUDA out of memory. Tried to allocate …"; HIP builds:
    // "hipMalloc failed: out of memory".
    "out of memory",
    // PyTorch: torch.OutOfMemoryError / torch.cuda.OutOfMemoryError (vLLM);
    // Metal: kIOGPUCommandBufferCallbackErrorOutOfMemory (llama.cpp on Apple).
    "outofmemory",
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
    // llama.cpp model load via Ollama: "error loading model: unable to
    // allocate CUDA0 buffer" / "unable to allocate backend buffer".
    "unable to allocate",
    // ggml-cuda without the cudaGetErrorString text.
    "cudamalloc failed",
    "hipmalloc failed",
    // Metal: "Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)";
    // Ollama (newer load errors): "insufficient memory", "not enough memory",
    // "allocation failed".
    "insufficient memory",
    "not enough memory",
    "allocation failed",
    // Ollama llm/server.go: "model requires more system memory (%s) than is available (%s)".
    "model requires more system memory",
    // vLLM (worker / kv_cache_utils): "No available memory for the cache
    // blocks. Try increasing `gpu_memory_utilization` …".
    "no available memory for the cache blocks",
};

// The engine is not there to serve.
constexpr std::string_view kEngineDownStrings[] = {
    // Ollama: "llama runner process has terminated: exit status …" and
    // "llama runner process no longer running: …" (no memory wording: see above).
    "runner process has terminated",
    "runner process no longer running",
    // llama.cpp server while the model loads: HTTP 503
    // {"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}.
    "unavailable_error",
    "loading model",
};

}  // namespace

// ---------------------------------------------------------------------------

std::string_view to_string(Dialect d) {
  switch (d) {
    case Dialect::openai_chat: return "openai_chat";
    case Dialect::openai_completions: return "openai_completions";
    case Dialect::llamacpp_completion: return "llamacpp_completion";
    case Dialect::ollama_generate: return "ollama_generate";
    case Dialect::ollama_chat: return "ollama_chat";
  }
  return "unknown";
}

std::optional<Dialect> dialect_from_string(std::string_view s) {
  for (auto d : {Dialect::openai_chat, Dialect::openai_completions, Dialect::llamacpp_completion,
                 Dialect::ollama_generate, Dialect::ollama_chat})
    if (to_string(d) == s) return d;
  return std::nullopt;
}

bool uses_sse(Dialect d) { return d != Dialect::ollama_generate && d != Dialect::ollama_chat; }

std::string_view request_path(Dialect d) {
  switch (d) {
    case Dialect::openai_chat: return "/v1/chat/completions";
    case Dialect::openai_completions: return "/v1/completions";
    case Dialect::llamacpp_completion: return "/completion";
    case Dialect::ollama_generate: return "/api/generate";
    case Dialect::ollama_chat: return "/api/chat";
  }
  return "/";
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::http_error: return "http_error";
    case Outcome::context_overflow: return "context_overflow";
    case Outcome::oom: return "oom";
    case Outcome::timeout: return "timeout";
    case Outcome::connection_reset: return "connection_reset";
    case Outcome::engine_down: return "engine_down";
    case Outcome::truncated: return "truncated";
    case Outcome::malformed_stream: return "malformed_stream";
  }
  return "unknown";
}

std::optional<Outcome> outcome_from_string(std::string_view s) {
  for (auto o : kAllOutcomes)
    if (to_string(o) == s) return o;
  return std::nullopt;
}

void StreamMessage::clear() {
  content.clear();
  reasoning.clear();
  carries_content = done = end_of_stream = malformed = false;
  finish_reason.clear();
  prompt_tokens.reset();
  output_tokens.reset();
  timings = {};
  truncated.reset();
  error.reset();
}

void interpret_message(Dialect d, std::string_view text, StreamMessage& out) {
  out.clear();
  if (uses_sse(d) && trim(text) == "[DONE]") {
    out.end_of_stream = true;
    out.done = true;
    return;
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    out.malformed = true;
    return;
  }
  switch (d) {
    case Dialect::openai_chat:
    case Dialect::openai_completions: interpret_openai(j, out); break;
    case Dialect::llamacpp_completion: interpret_llamacpp(j, out); break;
    case Dialect::ollama_generate:
    case Dialect::ollama_chat: interpret_ollama(j, out); break;
  }
  finish_content(out);
}

void interpret_sse_event(Dialect d, const SseEvent& event, StreamMessage& out) {
  if (event.has_data) {
    interpret_message(d, event.data, out);
  } else {
    out.clear();
  }
  if (event.has_error) {
    // llama.cpp: `error: {"code":500,"message":"…","type":"server_error"}`.
    // It wins over whatever the data said: the engine gave up.
    out.error = extract_engine_error(event.error);
  }
}

EngineError extract_engine_error(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && j.is_object()) {
    if (auto e = error_in(j)) return *e;
    if (member(j, "message")) {
      EngineError e = error_from_object(j);
      if (!e.message.empty()) return e;
    }
    if (const json* detail = member(j, "detail")) {
      EngineError e;
      e.message = bounded_message(scalar_text(*detail));
      return e;
    }
  }
  EngineError e;
  e.message = bounded_message(trim(body));
  return e;
}

Outcome classify_engine_error(int http_status, const EngineError& error) {
  (void)http_status;  // the words decide: llama.cpp sends context errors as 400 and 500, OOM as 500
  if (error.type == "exceed_context_size_error" || error.code == "context_length_exceeded")
    return Outcome::context_overflow;
  const std::string text = lowercase(error.message + '\n' + error.type + '\n' + error.code);
  if (contains_any(text, kContextStrings)) return Outcome::context_overflow;
  if (contains_any(text, kOomStrings)) return Outcome::oom;
  if (contains_any(text, kEngineDownStrings)) return Outcome::engine_down;
  return Outcome::http_error;
}

Outcome classify_engine_error(int http_status, std::string_view body) {
  return classify_engine_error(http_status, extract_engine_error(body));
}

// ---------------------------------------------------------------------------

StreamDecoder::StreamDecoder(Dialect d, std::size_t max_event_bytes)
    : dialect_(d), sse_(max_event_bytes), ndjson_(max_event_bytes) {}

void StreamDecoder::deliver(MessageCallback& on_message) {
  ++messages_;
  if (message_.malformed) ++malformed_;
  on_message(message_);
}

std::size_t StreamDecoder::feed(std::string_view chunk, MessageCallback on_message) {
  const std::uint64_t before = messages_;
  if (uses_sse(dialect_)) {
    sse_.feed(chunk, [&](const SseEvent& e) {
      interpret_sse_event(dialect_, e, message_);
      deliver(on_message);
    });
  } else {
    ndjson_.feed(chunk, [&](std::string_view line) {
      interpret_message(dialect_, line, message_);
      deliver(on_message);
    });
  }
  return static_cast<std::size_t>(messages_ - before);
}

std::size_t StreamDecoder::finish(MessageCallback on_message) {
  const std::uint64_t before = messages_;
  if (uses_sse(dialect_)) {
    sse_.finish([&](const SseEvent& e) {
      interpret_sse_event(dialect_, e, message_);
      deliver(on_message);
    });
  } else {
    ndjson_.finish([&](std::string_view line) {
      interpret_message(dialect_, line, message_);
      deliver(on_message);
    });
  }
  return static_cast<std::size_t>(messages_ - before);
}

// ---------------------------------------------------------------------------
// Request bodies.

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json chat_messages(const GenerationRequest& r) {
  json messages = json::array();
  if (!r.system.empty()) messages.push_back({{"role", "system"}, {"content", r.system}});
  messages.push_back({{"role", "user"}, {"content", r.prompt}});
  return messages;
}

void add_openai_common(const GenerationRequest& r, json& body) {
  if (!r.model.empty()) body["model"] = r.model;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["max_tokens"] = r.max_tokens;
  if (r.temperature) body["temperature"] = *r.temperature;
  if (r.seed) body["seed"] = *r.seed;
  if (r.ignore_eos) body["ignore_eos"] = true;
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

}  // namespace

std::string build_openai_chat_body(const GenerationRequest& r) {
  json body = json::object();
  add_openai_common(r, body);
  body["messages"] = chat_messages(r);
  return dump(body);
}

std::string build_openai_completions_body(const GenerationRequest& r) {
  json body = json::object();
  add_openai_common(r, body);
  body["prompt"] = r.prompt;
  return dump(body);
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
  return dump(body);
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
  body["messages"] = chat_messages(r);
  return dump(body);
}

std::string build_request_body(Dialect d, const GenerationRequest& r) {
  switch (d) {
    case Dialect::openai_chat: return build_openai_chat_body(r);
    case Dialect::openai_completions: return build_openai_completions_body(r);
    case Dialect::llamacpp_completion: return build_llamacpp_completion_body(r);
    case Dialect::ollama_generate: return build_ollama_generate_body(r);
    case Dialect::ollama_chat: return build_ollama_chat_body(r);
  }
  return "{}";
}

}  // namespace tierscope::workloads
