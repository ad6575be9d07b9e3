#include "workloads/engines/engine.h"

#include <cstddef>

#include "workloads/engines/llamacpp.h"
#include "workloads/engines/ollama.h"
#include "workloads/engines/openai.h"
#include "workloads/engines/vllm.h"

namespace tierscope::workloads {

namespace {

// In EngineKind order.
constexpr const EngineDescriptor* kEngines[] = {&kLlamaCppEngine, &kOllamaEngine, &kVllmEngine, &kOpenAiEngine};

}  // namespace

std::span<const EngineDescriptor* const> all_engines() { return kEngines; }

const EngineDescriptor& engine_descriptor(EngineKind kind) { return *kEngines[static_cast<std::size_t>(kind)]; }

const EngineDescriptor* engine_by_name(std::string_view name) {
  for (const EngineDescriptor* e : kEngines)
    if (e->name == name) return e;
  return nullptr;
}

Dialect dialect_of(const EngineDescriptor& engine, std::string_view api) {
  for (const ApiChoice& c : engine.apis)
    if (c.api == api) return c.dialect;
  return engine.apis.front().dialect;
}

std::vector<std::string> engine_headers(const EngineConfig& engine) {
  std::vector<std::string> h{"Content-Type: application/json"};
  if (!engine.api_key.empty()) h.push_back("Authorization: Bearer " + engine.api_key);
  return h;
}

}  // namespace tierscope::workloads
