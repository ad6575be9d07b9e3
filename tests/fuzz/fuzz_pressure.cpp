// /proc/pressure/<resource>: parse_pressure + render_pressure. The same text is
// read as each of the four resources, and all four are rendered together, as
// the probe does.
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/pressure.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

// Whether some line of `text` is "<kind> ... total=<total_us> ..." with every
// further field a key=value pair.
bool has_line(std::string_view text, std::string_view kind, const PressureLine& p) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    if (f.next() != kind) continue;
    bool total = false, well_formed = true;
    for (auto kv = f.next(); !kv.empty(); kv = f.next()) {
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) well_formed = false;
      else if (kv.substr(0, eq) == "total") total = total || text::parse_u64(kv.substr(eq + 1)) == p.total_us;
    }
    if (total && well_formed) return true;
  }
  return false;
}

bool has_kind(std::string_view text, std::string_view kind) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line))
    if (text::Fields(line).next() == kind) return true;
  return false;
}

void check_line(std::string_view text, std::string_view kind, const std::optional<PressureLine>& p) {
  if (!p) return;
  // A line is returned only when its total= parsed (and it came from the text).
  FUZZ_CHECK(has_line(text, kind, *p), std::string(kind));
  FUZZ_CHECK(std::isfinite(p->avg10) && std::isfinite(p->avg60) && std::isfinite(p->avg300));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  static constexpr std::array<std::string_view, 4> kResources{"cpu", "memory", "io", "irq"};

  Pressure all;
  for (auto resource : kResources) {
    auto r = parse_pressure(resource, text);
    FUZZ_CHECK(r.resource == resource);
    check_line(text, "some", r.some);
    check_line(text, "full", r.full);
    if (!has_kind(text, "some")) FUZZ_CHECK(!r.some);
    if (!has_kind(text, "full")) FUZZ_CHECK(!r.full);
    // Deterministic, and independent of the resource name.
    if (!all.resources.empty()) {
      const auto& first = all.resources.front();
      FUZZ_CHECK(!first.some == !r.some && !first.full == !r.full);
      if (r.some) FUZZ_CHECK(first.some->total_us == r.some->total_us && first.some->avg10 == r.some->avg10);
      if (r.full) FUZZ_CHECK(first.full->total_us == r.full->total_us && first.full->avg300 == r.full->avg300);
    }
    all.resources.push_back(std::move(r));
  }

  MetricWriter w;
  render_pressure(all, w);
  const auto families = fuzz::finish_and_check(std::move(w));

  const auto* stalled = fuzz::find_family(families, metric::pressure_stalled.name);
  std::size_t expected = 0;
  for (const auto& r : all.resources) {
    for (auto kind : {"some", "full"}) {
      const auto& line = std::string_view(kind) == "some" ? r.some : r.full;
      const auto* series = fuzz::find_series(stalled, {{"resource", r.resource}, {"kind", kind}});
      FUZZ_CHECK(!series == !line, r.resource + " " + kind);
      if (!series) continue;
      ++expected;
      FUZZ_CHECK(series->counter.value == static_cast<double>(line->total_us) / 1e6);
      FUZZ_CHECK(series->counter.value >= 0);
    }
  }
  FUZZ_CHECK(families.size() == (expected ? 1u : 0u));
  FUZZ_CHECK(!stalled || stalled->metric.size() == expected);
  return 0;
}
