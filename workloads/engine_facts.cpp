#include "workloads/engine_facts.h"

#include <exception>
#include <sstream>
#include <stdexcept>

#include "workloads/engines/engine.h"
#include "workloads/http_stream.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

// The descriptor's sample, or null; never throws.
json sample(const Scenario& sc) {
  const EngineDescriptor& engine = engine_descriptor(sc.engine.kind);
  if (!engine.sample) return nullptr;
  try {
    return engine.sample(sc.engine);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

json describe_engine(const Scenario& sc, const std::atomic<bool>& stop) {
  json e{{"kind", to_string(sc.engine.kind)}, {"url", sc.engine.url}, {"model", sc.engine.model},
         {"api", sc.engine.api}, {"dialect", to_string(sc.engine.dialect())}};
  engine_descriptor(sc.engine.kind).describe(sc, stop, e);
  return e;
}

json sample_before_step(const Scenario& sc) {
  return engine_descriptor(sc.engine.kind).sample_before_step ? sample(sc) : json(nullptr);
}

json step_engine_metrics(const Scenario& sc, const json& before) {
  if (!engine_descriptor(sc.engine.kind).sample_before_step) return sample(sc);
  json after = sample(sc);
  json delta = json::object();
  if (before.is_object() && after.is_object())
    for (const auto& [k, v] : after.items())
      if (before.contains(k) && k.find("_total") != std::string::npos)
        delta[k] = v.get<double>() - before[k].get<double>();
  return {{"before", before}, {"after", after}, {"delta", delta}};
}

json get_engine_json(const EngineConfig& engine, std::string_view path, std::chrono::milliseconds timeout) {
  const std::string url = engine.url + std::string(path);
  auto r = http_get(url, timeout);
  if (r.result.outcome == TransferOutcome::engine_down)
    throw std::runtime_error("engine down: GET " + url + ": " + r.result.error);
  if (r.result.outcome != TransferOutcome::ok) return nullptr;
  json j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

json prometheus_values(const std::string& text, std::string_view prefix) {
  json out = json::object();
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind(prefix, 0) != 0) continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    try {
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    } catch (const std::exception&) {
    }
  }
  return out;
}

json sample_prometheus(const EngineConfig& engine, std::string_view prefix) {
  auto r = http_get(engine.url + "/metrics", std::chrono::seconds(5));
  if (r.result.outcome != TransferOutcome::ok) return nullptr;
  return prometheus_values(r.body, prefix);
}

}  // namespace tierscope::workloads
