// /proc/meminfo: parse_meminfo + render_meminfo.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "core/metric_catalog.h"
#include "probes/meminfo.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const MemInfo m = parse_meminfo(text);

  // Deterministic: a second parse yields the same fields.
  const MemInfo again = parse_meminfo(text);
  FUZZ_CHECK(again.fields.size() == m.fields.size());
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    FUZZ_CHECK(again.fields[i].name == m.fields[i].name);
    FUZZ_CHECK(again.fields[i].value == m.fields[i].value);
    FUZZ_CHECK(again.fields[i].bytes == m.fields[i].bytes);
  }

  std::set<std::string> names;
  for (const auto& f : m.fields) {
    FUZZ_CHECK(!f.name.empty());
    FUZZ_CHECK(f.name.find(':') == std::string::npos, f.name);
    FUZZ_CHECK(f.name.find('\n') == std::string::npos, f.name);
    FUZZ_CHECK(names.insert(f.name).second, "field twice: " + f.name);  // first occurrence wins
    FUZZ_CHECK(!f.bytes || f.value % 1024 == 0, f.name);
    // The line came from the input: "name:" is in it.
    FUZZ_CHECK(text.find(f.name + ":") != std::string_view::npos, f.name);
    FUZZ_CHECK(m.get(f.name) == f.value, f.name);
  }

  MetricWriter w;
  render_meminfo(m, w);
  const auto families = fuzz::finish_and_check(std::move(w));

  // One series per rendered name: the first field that maps to a name keeps
  // it (two kernel names may map to one metric name), none is lost.
  std::map<std::string, const MemInfo::Field*> expected;
  for (const auto& f : m.fields) {
    const std::string name = "tierscope_meminfo_" + meminfo_metric_suffix(f.name) + (f.bytes ? "_bytes" : "_pages");
    expected.emplace(name, &f);
  }
  std::size_t field_families = 0;
  for (const auto& f : families) {
    FUZZ_CHECK(f.name.starts_with("tierscope_"), f.name);
    if (!f.name.starts_with("tierscope_meminfo_")) continue;
    ++field_families;
    auto it = expected.find(f.name);
    FUZZ_CHECK(it != expected.end(), f.name);
    FUZZ_CHECK(f.metric.size() == 1 && f.metric[0].label.empty(), f.name);
    FUZZ_CHECK(f.metric[0].gauge.value == static_cast<double>(it->second->value), f.name);
  }
  FUZZ_CHECK(field_families == expected.size());

  const Labels host_ram{{"tier", "ram"}, {"device", "host"}};
  auto total = m.get("MemTotal");

  const auto* capacity = fuzz::find_series(fuzz::find_family(families, metric::memory_capacity.name), host_ram);
  FUZZ_CHECK(!capacity == !total);
  if (capacity) FUZZ_CHECK(capacity->gauge.value == static_cast<double>(*total));
  if (const auto* used = fuzz::find_series(fuzz::find_family(families, metric::memory_used.name), host_ram)) {
    FUZZ_CHECK(used->gauge.value >= 0);
    FUZZ_CHECK(used->gauge.value <= capacity->gauge.value);
  }
  // Active(file) + Inactive(file): present when both are and the sum fits,
  // and then at least either part (no wrap-around).
  const auto active_file = m.get("Active(file)");
  const auto inactive_file = m.get("Inactive(file)");
  const auto* pc = fuzz::find_family(families, metric::memory_page_cache.name);
  if (active_file && inactive_file && *active_file <= std::numeric_limits<std::uint64_t>::max() - *inactive_file)
    FUZZ_CHECK(pc != nullptr);
  if (pc) {
    FUZZ_CHECK(active_file && inactive_file);
    FUZZ_CHECK(pc->metric.at(0).gauge.value >= static_cast<double>(std::max(*active_file, *inactive_file)));
  }
  return 0;
}
