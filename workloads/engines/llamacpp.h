#pragma once
// llama.cpp's server (llama-server): the native llamacpp_completion dialect
// (POST /completion, SSE without [DONE]) and the descriptor of engine kind
// `llamacpp`: api completion (native, the default), chat or completions
// (its OpenAI-compatible /v1 endpoints, engines/openai.h); /health and
// /props before the run; /metrics (llamacpp:*) before and after each step;
// prompts sized exactly with POST /tokenize; ignore_eos on by default.
//
// Threading: constants and pure functions, except the descriptor's describe
// and sample (blocking HTTP).

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "workloads/engines/dialect.h"
#include "workloads/engines/engine.h"

namespace tierscope::workloads {

extern const DialectSpec kLlamaCppCompletion;  // POST /completion, SSE
extern const EngineDescriptor kLlamaCppEngine;

// stream, n_predict, cache_prompt false (every request pays for its whole
// prompt, so steps are comparable), model only when given (router mode),
// temperature/seed when set, ignore_eos only when true.
std::string build_llamacpp_completion_body(const GenerationRequest& r);

// llama-server's `timings` object (prompt_n, prompt_ms, predicted_n,
// predicted_ms), in native chunks and in the last chunk of its /v1 streams.
void read_llamacpp_timings(const nlohmann::json& message, StreamMessage& out);

}  // namespace tierscope::workloads
