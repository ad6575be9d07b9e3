#pragma once
// Ollama's native API: the ollama_generate (POST /api/generate) and
// ollama_chat (POST /api/chat) dialects, NDJSON, and the descriptor of engine
// kind `ollama`: api generate (the default) or chat; GET /api/version before
// the run; GET /api/ps (loaded models, their VRAM and context) after each
// step; prompts sized by calibration; options.num_ctx set on every request
// (Ollama's default depends on VRAM and it silently drops the start of longer
// prompts), and a request whose prompt_eval_count shows Ollama cut the prompt
// to num_ctx is recorded as truncated.
//
// Threading: constants and pure functions, except the descriptor's describe
// and sample (blocking HTTP).

#include <cstdint>
#include <string>

#include "workloads/engines/dialect.h"
#include "workloads/engines/engine.h"

namespace tierscope::workloads {

extern const DialectSpec kOllamaGenerate;  // POST /api/generate, NDJSON
extern const DialectSpec kOllamaChat;      // POST /api/chat, NDJSON
extern const EngineDescriptor kOllamaEngine;

// stream, options{num_ctx, num_predict, temperature, seed}, raw, system,
// keep_alive (an integer as a number of seconds). ignore_eos is not sent.
std::string build_ollama_generate_body(const GenerationRequest& r);
std::string build_ollama_chat_body(const GenerationRequest& r);

// The num_ctx of a request when the scenario gives none: enough for the
// prompt (by the engine's count, or two tokens per word of the text, whichever
// is more) plus the output, with room for a template.
std::uint32_t ollama_num_ctx(const RequestSizing& sizing);

}  // namespace tierscope::workloads
