#pragma once
// Facts about the engine under test, from blocking requests on the runner's
// thread outside a step's event loop:
//   - before the run (summary.json "engine"): kind, url, model, api and
//     dialect, plus what the engine's descriptor adds (readiness, version,
//     properties); describe_engine() throws when the engine is down;
//   - around each step (steps[].engine_metrics): the engine's own metrics,
//     sampled after the step, and for engines whose descriptor asks for it
//     (llama.cpp) also before it, with the deltas of its counters.
// The helpers below are what the engines' files (workloads/engines/) use for
// their endpoints.
//
// Units: whatever the engine reports, unconverted.
// Threading: blocking calls on the caller's thread.

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "workloads/scenario.h"

namespace tierscope::workloads {

// summary.json "engine". Throws std::runtime_error when the engine is down or
// not ready (the message says which request failed and how).
nlohmann::json describe_engine(const Scenario& scenario, const std::atomic<bool>& stop);

// The engine's metrics before a step: null unless its descriptor samples before steps.
nlohmann::json sample_before_step(const Scenario& scenario);
// steps[].engine_metrics after a step: {"before", "after", "delta"} (delta: the
// counters, names containing "_total", present in both) when sampled before
// the step, else the sample itself (null when none). Never throws.
nlohmann::json step_engine_metrics(const Scenario& scenario, const nlohmann::json& before);

// GET url + path as JSON: null when the answer is not a 2xx JSON body.
// Throws std::runtime_error "engine down: GET …" when nothing listens.
nlohmann::json get_engine_json(const EngineConfig& engine, std::string_view path,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The "name value" samples of a Prometheus text exposition whose name starts
// with `prefix` ({"name{labels}": value}).
nlohmann::json prometheus_values(const std::string& text, std::string_view prefix);
// GET /metrics, reduced by prometheus_values(); null when it did not answer 2xx.
nlohmann::json sample_prometheus(const EngineConfig& engine, std::string_view prefix);

}  // namespace tierscope::workloads
