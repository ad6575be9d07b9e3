#include "core/metric_writer.h"

#include <algorithm>

#include "core/text.h"

namespace tierscope {

prometheus::MetricFamily& MetricWriter::family(std::string_view name, std::string_view help,
                                               prometheus::MetricType type) {
  if (auto it = index_.find(name); it != index_.end()) return families_[it->second];
  index_.emplace(std::string(name), families_.size());
  prometheus::MetricFamily f;
  f.name = std::string(name);
  f.help = std::string(help);
  text::make_valid_utf8(f.help);  // meminfo field names come from the kernel file
  f.type = type;
  families_.push_back(std::move(f));
  return families_.back();
}

void MetricWriter::add(const MetricDef& def, double value, Labels labels) {
  add(def.name, def.help, def.type, value, std::move(labels));
}

void MetricWriter::add(std::string_view name, std::string_view help, prometheus::MetricType type,
                       double value, Labels labels) {
  auto& f = family(name, help, type);
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  // Label values come from outside (swap file names, sysfs strings): one
  // invalid byte must not make Prometheus reject the whole scrape.
  for (auto& l : m.label) text::make_valid_utf8(l.value);
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
    // Two series with one label set would make the exposition invalid. Only
    // outside bytes can cause it (two swap names that differ in invalid
    // UTF-8 only); the first one added stays.
    auto dup = std::unique(f.metric.begin(), f.metric.end(),
                           [](const auto& a, const auto& b) { return a.label == b.label; });
    f.metric.erase(dup, f.metric.end());
  }
  index_.clear();
  return std::move(families_);
}

}  // namespace tierscope
