#pragma once
// The memory wall a scenario's launched engine should hit, predicted from its
// model file (engine.launch.model, a GGUF file; workloads/memory_wall.h):
// weights, KV-cache bytes per token for the cache types in its argv
// (llama.cpp -ctk/--cache-type-k, -ctv/--cache-type-v; f16 when absent), and
// the largest context that fits each budget: the scenario's memory_max and
// memory_high, and the host's RAM (MemTotal). summary.json shows it as
// `predicted_wall` beside the measured `wall`.

#include <nlohmann/json.hpp>

#include "core/host_roots.h"
#include "workloads/scenario.h"

namespace tierscope::workloads {

// null when the scenario launches no engine or names no model; {"error": …}
// when the model file cannot be read as GGUF.
nlohmann::json predict_scenario_wall(const Scenario& sc, const HostRoots& roots = {});

}  // namespace tierscope::workloads
