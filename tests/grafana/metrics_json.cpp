// Prints grafana/lib/metrics.json: every metric of the catalog
// (core/metric_catalog.h), of the bench's live metrics
// (workloads/bench_metrics.h) and of the soak's (workloads/soak_metrics.h)
// with its HELP and type, and the prefix of the families named at run time. The Jsonnet mixin imports it and stops with an
// error on a name it does not hold, so a renamed metric fails the generation;
// the grafana_metrics_json test diffs this output against the committed file.
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/metric_catalog.h"
#include "workloads/bench_metrics.h"
#include "workloads/soak_metrics.h"

namespace {

std::string type_name(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Untyped: return "untyped";
  }
  return "untyped";
}

}  // namespace

int main() {
  using namespace tierscope::metric;
  nlohmann::json metrics = nlohmann::json::object();  // keys sorted: stable output
  auto add = [&](const tierscope::MetricDef* d) {
    const std::string name(d->name);
    if (metrics.contains(name)) {
      std::cerr << "metrics_json: " << name << " is listed twice\n";
      std::exit(1);
    }
    metrics[name] = {{"help", std::string(d->help)}, {"type", type_name(d->type)}};
  };
  for (const auto* d : kCatalog) add(d);
  for (const auto* d : kBenchCatalog) add(d);
  for (const auto* d : kSoakCatalog) add(d);
  nlohmann::json out = {
      {"metrics", metrics},
      {"prefixes",
       {{std::string(kMeminfoPrefix),
         {{"help", "One gauge per /proc/meminfo field, <field> in snake_case with _bytes (kB x 1024) or _pages "
                   "(HugePages_* counts); see probes/meminfo.cpp."},
          {"type", "gauge"}}}}},
  };
  std::cout << out.dump(2) << '\n';
  return 0;
}
