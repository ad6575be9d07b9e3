#pragma once
// vLLM's OpenAI-compatible server: it speaks OpenAI's dialects
// (engines/openai.h: api chat, the default, or completions) and adds its own
// error strings, GET /version before the run, GET /metrics (vllm:*) after
// each step, POST /tokenize for prompts of exact token counts (calibration
// when an older or restricted server has none), and ignore_eos on by default.
//
// Threading: a constant; its describe and sample block on HTTP.

#include "workloads/engines/engine.h"

namespace tierscope::workloads {

extern const EngineDescriptor kVllmEngine;

}  // namespace tierscope::workloads
