#pragma once
// OpenAI's API, as api.openai.com and every server that copies it speaks it
// (vLLM, llama-server's /v1, Ollama's /v1): the openai_chat and
// openai_completions dialects, and the descriptor of engine kind `openai`
// (a generic OpenAI-compatible server: no metrics, prompts sized by
// calibration). vLLM (engines/vllm.h) and llama.cpp with api chat or
// completions use these dialects too.
//
// Threading: constants and pure functions, except the descriptor's describe
// (a blocking GET /v1/models).

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "workloads/engines/dialect.h"
#include "workloads/engines/engine.h"

namespace tierscope::workloads {

extern const DialectSpec kOpenAiChat;         // POST /v1/chat/completions, SSE
extern const DialectSpec kOpenAiCompletions;  // POST /v1/completions, SSE
// engine.api: chat (default), completions; shared by every OpenAI-compatible engine.
extern const ApiChoice kOpenAiApis[2];
extern const EngineDescriptor kOpenAiEngine;

// Bodies: stream, stream_options.include_usage, max_tokens, model when
// given, temperature/seed when set, ignore_eos only when true.
std::string build_openai_chat_body(const GenerationRequest& r);
std::string build_openai_completions_body(const GenerationRequest& r);
// The messages array: an optional system message, then the user's prompt
// (Ollama's /api/chat takes the same shape).
nlohmann::json openai_chat_messages(const GenerationRequest& r);

}  // namespace tierscope::workloads
