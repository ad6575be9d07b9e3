#pragma once
// Builds the metric families of one scrape (or one `tierscope probe` run).
//
// Several probes contribute to the same family (tierscope_memory_capacity_bytes
// gets tier="ram" from meminfo and tier="swap" from swaps), so families are
// looked up by name and appended to. `finish()` drops families without
// samples (a value that could not be read is absent, never 0) and sorts
// families by name and series by labels, so the output is deterministic.
// Label values and HELP are made valid UTF-8 (U+FFFD for invalid bytes), and
// a series whose label set repeats an earlier one is dropped.

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tierscope {

using Label = prometheus::ClientMetric::Label;
using Labels = std::vector<Label>;

// A metric of the contract: name, HELP (source and unit), type.
struct MetricDef {
  std::string_view name;
  std::string_view help;
  prometheus::MetricType type;
};

class MetricWriter {
 public:
  void add(const MetricDef& def, double value, Labels labels = {});
  // For families whose name is only known at run time (one per meminfo field).
  void add(std::string_view name, std::string_view help, prometheus::MetricType type, double value,
           Labels labels = {});

  std::vector<prometheus::MetricFamily> finish() &&;

 private:
  prometheus::MetricFamily& family(std::string_view name, std::string_view help,
                                   prometheus::MetricType type);
  // Heterogeneous lookup: finding an existing family allocates nothing.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<prometheus::MetricFamily> families_;
  std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> index_;
};

}  // namespace tierscope
