// /proc/swaps: parse_swaps + render_swaps (with made-up block devices and
// disks, which the probe resolves from sysfs).
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/swaps.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  Swaps s;
  s.areas = parse_swaps(text);

  std::size_t lines = 0;
  {
    text::Lines l(text);
    std::string_view line;
    while (l.next(line)) ++lines;
  }
  FUZZ_CHECK(s.areas.size() <= lines);

  std::set<std::string> filenames;
  for (const auto& a : s.areas) {
    FUZZ_CHECK(!a.filename.empty());
    FUZZ_CHECK(filenames.insert(a.filename).second, "area twice: " + a.filename);
    FUZZ_CHECK(!a.type.empty() && a.type.find_first_of(" \t\n") == std::string::npos, a.type);
    FUZZ_CHECK(a.size_bytes % 1024 == 0 && a.used_bytes % 1024 == 0);
    FUZZ_CHECK(!a.block_device && a.disks.empty());  // the parser resolves nothing
    // Unescaping never lengthens a name; a name without a backslash is kept as is.
    FUZZ_CHECK(a.filename.size() <= text.size());
  }
  const auto again = parse_swaps(text);
  FUZZ_CHECK(again.size() == s.areas.size());
  for (std::size_t i = 0; i < again.size(); ++i)
    FUZZ_CHECK(again[i].filename == s.areas[i].filename && again[i].size_bytes == s.areas[i].size_bytes &&
               again[i].used_bytes == s.areas[i].used_bytes && again[i].priority == s.areas[i].priority);

  // What the probe would add: none, one disk, or two disks behind the area.
  std::size_t info_series = 0;
  for (std::size_t i = 0; i < s.areas.size(); ++i) {
    auto& a = s.areas[i];
    if (i % 3 == 1) {
      a.block_device = "sda" + std::to_string(i);
      a.disks = {"sda"};
    } else if (i % 3 == 2) {
      a.block_device = "dm-" + std::to_string(i);
      a.disks = {"nvme0n1", "nvme1n1"};
    }
    info_series += a.disks.empty() ? 1 : a.disks.size();
  }

  MetricWriter w;
  render_swaps(s, w);
  const auto families = fuzz::finish_and_check(std::move(w));

  const auto* capacity = fuzz::find_family(families, metric::memory_capacity.name);
  const auto* used = fuzz::find_family(families, metric::memory_used.name);
  const auto* priority = fuzz::find_family(families, metric::swap_priority.name);
  const auto* info = fuzz::find_family(families, metric::swap_device_info.name);
  if (s.areas.empty()) FUZZ_CHECK(families.empty());
  // Label values are made valid UTF-8, so two names that differ only in
  // invalid bytes share one label; the first area with that label is exported.
  std::map<std::string, const SwapArea*> first_by_label;
  for (const auto& a : s.areas) {
    std::string label = a.filename;
    text::make_valid_utf8(label);
    first_by_label.emplace(label, &a);
  }
  for (const auto& [label, a] : first_by_label) {
    const auto* c = fuzz::find_series(capacity, {{"tier", "swap"}, {"device", label}});
    const auto* u = fuzz::find_series(used, {{"tier", "swap"}, {"device", label}});
    const auto* p = fuzz::find_series(priority, {{"device", label}});
    FUZZ_CHECK(c && u && p, label);
    FUZZ_CHECK(c->gauge.value == static_cast<double>(a->size_bytes));
    FUZZ_CHECK(u->gauge.value == static_cast<double>(a->used_bytes));
    FUZZ_CHECK(p->gauge.value == static_cast<double>(a->priority));
  }
  FUZZ_CHECK(!capacity || capacity->metric.size() == first_by_label.size());
  FUZZ_CHECK(!info || info->metric.size() <= info_series);
  return 0;
}
