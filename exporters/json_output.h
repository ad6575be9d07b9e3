#pragma once
// Output formats of `tierscope probe`: the Prometheus text exposition, or the
// same families as JSON (name, help, type, and each sample's labels and value).

#include <prometheus/metric_family.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tierscope {

std::string to_prometheus_text(const std::vector<prometheus::MetricFamily>& families);
nlohmann::json to_json(const std::vector<prometheus::MetricFamily>& families);

}  // namespace tierscope
