#include "workloads/engines/openai.h"

#include <atomic>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "workloads/engine_stream.h"
#include "workloads/engines/llamacpp.h"
#include "workloads/http_stream.h"
#include "workloads/json_fields.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

using namespace json_fields;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// OpenAI-compatible chunk (vLLM, llama.cpp /v1, Ollama /v1, OpenAI):
//   {"choices":[{"index":0,"delta":{"content":"Hi","reasoning_content":…},
//                "text":…,"finish_reason":null}], "usage":{…}|null}
// The final usage chunk has "choices": [] (OpenAI, vLLM) or the last choice
// (llama.cpp, which also adds its "timings").
void interpret_choice(const json& choice, StreamMessage& out) {
  if (!choice.is_object()) {
    out.malformed = true;
    return;
  }
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

void interpret_openai(const json& j, StreamMessage& out) {
  out.error = engine_error_in(j);
  if (const json* choices = member(j, "choices"); choices && !choices->is_null()) {
    if (!choices->is_array()) {
      out.malformed = true;
    } else if (!choices->empty()) {
      interpret_choice(choices->front(), out);
    }
  }
  if (const json* usage = member(j, "usage"); usage && usage->is_object()) {
    out.prompt_tokens = count_member(*usage, "prompt_tokens");
    out.output_tokens = count_member(*usage, "completion_tokens");
  }
  read_llamacpp_timings(j, out);
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

// Error strings, lowercased. Each names where it comes from.

// Context overflow.
constexpr std::string_view kContextStrings[] = {
    // vLLM (serving_engine.py) and OpenAI: "This model's maximum context length
    // is %d tokens. However, you requested %d tokens …", and "'max_tokens' or
    // 'max_completion_tokens' is too large: %d. This model's maximum context length is …".
    "maximum context length",
    // OpenAI error code.
    "context_length_exceeded",
};

// A generic OpenAI-compatible server has no health endpoint of its own:
// GET /v1/models (with the API key) tells whether anything listens.
void describe(const Scenario& sc, const std::atomic<bool>&, json&) {
  auto r = http_fetch(HttpRequest{"GET", sc.engine.url + "/v1/models", engine_headers(sc.engine), "",
                                  std::chrono::seconds(10), std::chrono::milliseconds(5000), false});
  if (r.result.outcome == TransferOutcome::engine_down)
    throw std::runtime_error("engine down: GET " + sc.engine.url + "/v1/models: " + r.result.error);
}

}  // namespace

json openai_chat_messages(const GenerationRequest& r) {
  json messages = json::array();
  if (!r.system.empty()) messages.push_back({{"role", "system"}, {"content", r.system}});
  messages.push_back({{"role", "user"}, {"content", r.prompt}});
  return messages;
}

std::string build_openai_chat_body(const GenerationRequest& r) {
  json body = json::object();
  add_openai_common(r, body);
  body["messages"] = openai_chat_messages(r);
  return dump(body);
}

std::string build_openai_completions_body(const GenerationRequest& r) {
  json body = json::object();
  add_openai_common(r, body);
  body["prompt"] = r.prompt;
  return dump(body);
}

constinit const DialectSpec kOpenAiChat{
    .dialect = Dialect::openai_chat,
    .name = "openai_chat",
    .path = "/v1/chat/completions",
    .framing = Framing::sse,
    .build_body = &build_openai_chat_body,
    .interpret = &interpret_openai,
};

constinit const DialectSpec kOpenAiCompletions{
    .dialect = Dialect::openai_completions,
    .name = "openai_completions",
    .path = "/v1/completions",
    .framing = Framing::sse,
    .build_body = &build_openai_completions_body,
    .interpret = &interpret_openai,
};

constinit const ApiChoice kOpenAiApis[2] = {{"chat", Dialect::openai_chat}, {"completions", Dialect::openai_completions}};

constinit const EngineDescriptor kOpenAiEngine{
    .kind = EngineKind::openai,
    .name = "openai",
    .apis = kOpenAiApis,
    .needs_model = true,
    .ignore_eos_by_default = false,
    .errors = {.context_overflow = kContextStrings, .oom = {}, .engine_down = {}},
    .prompt_sizing = PromptSizing::calibration,
    .tokenize_body = nullptr,
    .describe = &describe,
    .sample = nullptr,
    .sample_before_step = false,
    .size_request = nullptr,
    .prompt_cut = nullptr,
};

}  // namespace tierscope::workloads
