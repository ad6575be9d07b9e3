#include "exporters/metric_writer.h"

#include <algorithm>

namespace tierscope {

prometheus::MetricFamily& MetricWriter::family(std::string_view name, std::string_view help,
                                               prometheus::MetricType type) {
  auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
  if (inserted) {
    prometheus::MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    families_.push_back(std::move(f));
  }
  return families_[it->second];
}

void MetricWriter::add(const MetricDef& def, double value, Labels labels) {
  add(def.name, def.help, def.type, value, std::move(labels));
}

void MetricWriter::add(std::string_view name, std::string_view help, prometheus::MetricType type,
                       double value, Labels labels) {
  auto& f = family(name, help, type);
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  switch (type) {
    case prometheus::MetricType::Counter: m.counter.value = value; break;
    case prometheus::MetricType::Gauge: m.gauge.value = value; break;
    default: m.untyped.value = value; break;
  }
  f.metric.push_back(std::move(m));
}

std::vector<prometheus::MetricFamily> MetricWriter::finish() && {
  std::erase_if(families_, [](const prometheus::MetricFamily& f) { return f.metric.empty(); });
  std::sort(families_.begin(), families_.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& f : families_) {
    for (auto& m : f.metric) std::sort(m.label.begin(), m.label.end());
    std::stable_sort(f.metric.begin(), f.metric.end(),
                     [](const auto& a, const auto& b) { return a.label < b.label; });
  }
  index_.clear();
  return std::move(families_);
}

}  // namespace tierscope
