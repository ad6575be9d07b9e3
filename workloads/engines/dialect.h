#pragma once
// The wire dialects the benchmark speaks to inference engines. A dialect is
// the wire format, not the engine: vLLM and llama.cpp both speak OpenAI's.
// Each is one DialectSpec (request path, body builder, stream framing,
// message interpreter), defined in the file of the engine whose API it is:
//   openai_chat          POST /v1/chat/completions, SSE; choices[0].delta.content  engines/openai.cpp
//   openai_completions   POST /v1/completions, SSE; choices[0].text                engines/openai.cpp
//   llamacpp_completion  POST /completion (llama.cpp native), SSE without [DONE]   engines/llamacpp.cpp
//   ollama_generate      POST /api/generate, NDJSON; response                      engines/ollama.cpp
//   ollama_chat          POST /api/chat, NDJSON; message.content                   engines/ollama.cpp
// Each interpreter also accepts the sibling shape of its family (a chat
// interpreter reading choices[0].text, a generate interpreter reading
// message.content), so a misconfigured endpoint still yields text.
//
// dialect_spec() is the one lookup; nothing else switches over dialects.
// Threading: the specs are constants, usable from any thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tierscope::workloads {

struct StreamMessage;  // workloads/engine_stream.h

enum class Dialect { openai_chat, openai_completions, llamacpp_completion, ollama_generate, ollama_chat };
inline constexpr std::array kAllDialects = {Dialect::openai_chat, Dialect::openai_completions,
                                            Dialect::llamacpp_completion, Dialect::ollama_generate,
                                            Dialect::ollama_chat};

// How the response body is cut into messages.
enum class Framing {
  sse,     // Server-Sent Events: each event's data is one message; `data: [DONE]` ends the stream
  ndjson,  // one JSON object per line
};

// One generation request, engine-neutral.
struct GenerationRequest {
  std::string model;
  std::string prompt;  // the user message (chat) or the whole prompt
  std::string system;  // chat system message / Ollama `system`; empty: none
  std::uint32_t max_tokens = 128;
  std::optional<double> temperature;
  std::optional<std::uint64_t> seed;
  // Ollama options.num_ctx. Ollama's default depends on VRAM and it silently
  // drops the start of longer prompts: the client should always set it.
  std::optional<std::uint32_t> num_ctx;
  // llama.cpp and vLLM extension: keep generating past end-of-sequence, so
  // every request produces max_tokens. Sent only when true (OpenAI itself
  // rejects unknown parameters); not supported by Ollama (never sent there).
  bool ignore_eos = false;
  bool raw = false;                       // Ollama /api/generate: no prompt template
  std::optional<std::string> keep_alive;  // Ollama: "5m", "-1" (integers are sent as seconds)
};

struct DialectSpec {
  Dialect dialect;
  std::string_view name;  // as written in summary.json engine.dialect
  std::string_view path;  // the request path, e.g. "/v1/chat/completions"
  Framing framing;
  // The request body (JSON text), streaming on. Invalid UTF-8 in the prompt
  // is replaced (U+FFFD), never thrown on.
  std::string (*build_body)(const GenerationRequest& request);
  // Reads one message, already parsed to a JSON object, into `out` (cleared
  // by the caller): text, end of generation, token counts, timings, errors;
  // sets out.malformed on an unexpected shape. Never throws.
  void (*interpret)(const nlohmann::json& message, StreamMessage& out);
};

const DialectSpec& dialect_spec(Dialect d);

std::string_view to_string(Dialect d);
std::optional<Dialect> dialect_from_string(std::string_view s);
// SSE for the OpenAI and llama.cpp dialects, NDJSON for Ollama's native API.
bool uses_sse(Dialect d);
// The request path, e.g. "/v1/chat/completions".
std::string_view request_path(Dialect d);
std::string build_request_body(Dialect d, const GenerationRequest& r);

}  // namespace tierscope::workloads
