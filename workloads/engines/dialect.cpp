#include "workloads/engines/dialect.h"

#include <cstddef>

#include "workloads/engines/llamacpp.h"
#include "workloads/engines/ollama.h"
#include "workloads/engines/openai.h"

namespace tierscope::workloads {

namespace {

// In Dialect order.
constexpr const DialectSpec* kDialects[] = {&kOpenAiChat, &kOpenAiCompletions, &kLlamaCppCompletion, &kOllamaGenerate,
                                            &kOllamaChat};
static_assert(std::size(kDialects) == kAllDialects.size());

}  // namespace

const DialectSpec& dialect_spec(Dialect d) { return *kDialects[static_cast<std::size_t>(d)]; }

std::string_view to_string(Dialect d) { return dialect_spec(d).name; }

std::optional<Dialect> dialect_from_string(std::string_view s) {
  for (auto d : kAllDialects)
    if (to_string(d) == s) return d;
  return std::nullopt;
}

bool uses_sse(Dialect d) { return dialect_spec(d).framing == Framing::sse; }

std::string_view request_path(Dialect d) { return dialect_spec(d).path; }

std::string build_request_body(Dialect d, const GenerationRequest& r) { return dialect_spec(d).build_body(r); }

}  // namespace tierscope::workloads
