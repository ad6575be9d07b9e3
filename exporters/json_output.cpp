#include "exporters/json_output.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace tierscope {

std::string to_prometheus_text(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return os.str();
}

nlohmann::json to_json(const std::vector<prometheus::MetricFamily>& families) {
  auto out = nlohmann::json::array();
  for (const auto& f : families) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& m : f.metric) {
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& l : m.label) labels[l.name] = l.value;
      double value = f.type == prometheus::MetricType::Counter ? m.counter.value
                     : f.type == prometheus::MetricType::Gauge ? m.gauge.value
                                                               : m.untyped.value;
      samples.push_back({{"labels", labels}, {"value", value}});
    }
    const char* type = f.type == prometheus::MetricType::Counter ? "counter"
                       : f.type == prometheus::MetricType::Gauge ? "gauge"
                                                                 : "untyped";
    out.push_back({{"name", f.name}, {"help", f.help}, {"type", type}, {"samples", samples}});
  }
  return out;
}

}  // namespace tierscope
