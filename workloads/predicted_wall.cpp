#include "workloads/predicted_wall.h"

#include <exception>

#include "core/file_cache.h"
#include "probes/meminfo.h"
#include "workloads/gguf.h"
#include "workloads/memory_wall.h"

namespace tierscope::workloads {

using nlohmann::json;

namespace {

// The value after `short_flag` or `long_flag` in argv (also --flag=value).
std::optional<std::string> flag_value(const std::vector<std::string>& argv, std::string_view short_flag,
                                      std::string_view long_flag) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if ((a == short_flag || a == long_flag) && i + 1 < argv.size()) return argv[i + 1];
    const std::string prefix = std::string(long_flag) + "=";
    if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
  }
  return std::nullopt;
}

}  // namespace

json predict_scenario_wall(const Scenario& sc, const HostRoots& roots) {
  if (!sc.engine.launch || sc.engine.launch->model.empty()) return nullptr;
  const auto& argv = sc.engine.launch->spec.argv;
  json out;
  out["model"] = sc.engine.launch->model;
  KvCacheType k = KvCacheType::f16, v = KvCacheType::f16;
  for (auto [flag, longf, type, key] : {std::tuple{"-ctk", "--cache-type-k", &k, "cache_type_k"},
                                        std::tuple{"-ctv", "--cache-type-v", &v, "cache_type_v"}}) {
    if (auto name = flag_value(argv, flag, longf)) {
      auto t = kv_cache_type_from_name(*name);
      if (!t) return json{{"model", sc.engine.launch->model}, {"error", std::string(key) + " " + *name + " is not a KV cache type tierscope knows"}};
      *type = *t;
    }
  }
  WallModel model;
  try {
    model = wall_model(model_facts(read_gguf(sc.engine.launch->model)), k, v);
  } catch (const std::exception& e) {
    out["error"] = e.what();
    return out;
  }
  out["cache_type_k"] = std::string(kv_cache_layout(k).name);
  out["cache_type_v"] = std::string(kv_cache_layout(v).name);
  out["weights_bytes"] = model.weights_bytes;
  out["kv_bytes_per_token"] = model.kv_bytes_per_token;
  if (model.context_length) out["context_length"] = *model.context_length;
  std::vector<TierBudget> budgets;
  if (sc.limits.memory_max) budgets.push_back({"memory_max", *sc.limits.memory_max, std::nullopt});
  if (sc.limits.memory_high) budgets.push_back({"memory_high", *sc.limits.memory_high, std::nullopt});
  std::string meminfo;
  if (read_uncached(roots.proc("meminfo"), meminfo) == 0)
    if (auto total = parse_meminfo(meminfo).get("MemTotal")) budgets.push_back({"host_ram", *total, std::nullopt});
  json tiers = json::array();
  for (const auto& p : predict_walls(budgets, model)) {
    json t{{"tier", p.tier}, {"budget_bytes", p.budget_bytes}, {"weights_fit", p.weights_fit}, {"clamped", p.clamped}};
    t["max_context"] = p.max_context ? json(*p.max_context) : json(nullptr);
    tiers.push_back(t);
  }
  out["tiers"] = tiers;
  out["assumes"] = "weights and KV cache only; no compute buffers or runtime overhead";
  return out;
}

}  // namespace tierscope::workloads
