#pragma once
// Shared by the fuzz targets: a property check that aborts (so libFuzzer
// records the input as a crash), and the invariants every rendered scrape must
// keep whatever the input was.

#include <prometheus/check_names.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric_writer.h"
#include "exporters/json_output.h"

namespace tierscope::fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line, std::string_view detail = {}) {
  std::fprintf(stderr, "%s:%d: fuzz property violated: %s", file, line, what);
  if (!detail.empty()) std::fprintf(stderr, " [%.*s]", static_cast<int>(detail.size()), detail.data());
  std::fputc('\n', stderr);
  std::abort();
}

// FUZZ_CHECK(cond) or FUZZ_CHECK(cond, detail-string): abort unless cond holds.
#define FUZZ_CHECK(cond, ...)                                                           \
  do {                                                                                  \
    if (!(cond)) ::tierscope::fuzz::violated(#cond, __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)

// Splits `body` into chunks of 1..max_chunk bytes at boundaries drawn from a
// tiny deterministic generator seeded by `seed` (stream parsers must give the
// same result however the bytes arrive).
inline std::vector<std::string_view> chunk(std::string_view body, std::uint8_t seed, std::size_t max_chunk) {
  std::vector<std::string_view> chunks;
  std::uint32_t state = seed * 2654435761u + 1;
  while (!body.empty()) {
    state = state * 1664525u + 1013904223u;
    const std::size_t n = std::min<std::size_t>(body.size(), 1 + (state >> 24) % max_chunk);
    chunks.push_back(body.substr(0, n));
    body.remove_prefix(n);
  }
  return chunks;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The value a sample holds, whatever the family type.
inline double value_of(const prometheus::MetricFamily& f, const prometheus::ClientMetric& m) {
  switch (f.type) {
    case prometheus::MetricType::Counter: return m.counter.value;
    case prometheus::MetricType::Gauge: return m.gauge.value;
    default: return m.untyped.value;
  }
}

inline const prometheus::MetricFamily* find_family(const std::vector<prometheus::MetricFamily>& families,
                                                   std::string_view name) {
  for (const auto& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

// The series of `family` whose label set is exactly `labels` (any order).
inline const prometheus::ClientMetric* find_series(const prometheus::MetricFamily* family, Labels labels) {
  if (!family) return nullptr;
  std::sort(labels.begin(), labels.end());
  for (const auto& m : family->metric)
    if (m.label == labels) return &m;
  return nullptr;
}

// Invariants of MetricWriter::finish() output, whatever was rendered into it:
// valid and unique family names in order, no empty family, valid label names
// (no name twice in one series), no two series of a family with the same label
// set, and both output formats serialise without throwing.
inline void check_families(const std::vector<prometheus::MetricFamily>& families) {
  for (std::size_t i = 0; i < families.size(); ++i) {
    const auto& f = families[i];
    FUZZ_CHECK(prometheus::CheckMetricName(f.name), f.name);
    FUZZ_CHECK(i == 0 || families[i - 1].name < f.name, f.name);  // sorted, unique
    FUZZ_CHECK(!f.metric.empty(), f.name);
    std::set<Labels> label_sets;
    for (const auto& m : f.metric) {
      std::set<std::string> names;
      for (const auto& l : m.label) {
        FUZZ_CHECK(prometheus::CheckLabelName(l.name), l.name);
        FUZZ_CHECK(names.insert(l.name).second, f.name + " label " + l.name);
      }
      Labels sorted = m.label;
      std::sort(sorted.begin(), sorted.end());
      FUZZ_CHECK(sorted == m.label, f.name);  // finish() sorts labels
      std::string series = f.name + "{";
      for (const auto& l : m.label) series += l.name + "=\"" + l.value + "\",";
      FUZZ_CHECK(label_sets.insert(m.label).second, series + "} twice");
    }
  }
  std::string text;
  try {
    text = to_prometheus_text(families);
  } catch (const std::exception& e) {
    violated("to_prometheus_text() threw", __FILE__, __LINE__, e.what());
  } catch (...) {
    violated("to_prometheus_text() threw", __FILE__, __LINE__, "");
  }
  for (const auto& f : families) FUZZ_CHECK(text.find("# TYPE " + f.name + " ") != std::string::npos, f.name);
  // `tierscope probe --format json` dumps this. Label values and HELP carry
  // bytes from the input (file names, field names) that need not be UTF-8;
  // nlohmann's default (strict) dump throws on those, so strict mode is
  // checked only with TIERSCOPE_FUZZ_STRICT_JSON=1 (see README.md).
  static const bool strict_json = std::getenv("TIERSCOPE_FUZZ_STRICT_JSON") != nullptr;
  try {
    (void)to_json(families).dump(-1, ' ', false,
                                 strict_json ? nlohmann::json::error_handler_t::strict
                                             : nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    violated("to_json().dump() threw", __FILE__, __LINE__, e.what());
  }
}

inline std::vector<prometheus::MetricFamily> finish_and_check(MetricWriter&& w) {
  auto families = std::move(w).finish();
  check_families(families);
  return families;
}

}  // namespace tierscope::fuzz
