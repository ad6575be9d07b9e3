// /proc/vmstat: parse_vmstat + render_vmstat, against a straightforward
// reference reading of the same text.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/metric_catalog.h"
#include "probes/vmstat.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

// "name value" lines; fields split on spaces/tabs; the first well-formed line
// of each name wins.
std::map<std::string, std::uint64_t> reference(std::string_view text) {
  std::map<std::string, std::uint64_t> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::vector<std::string> fields;
    std::string cur;
    for (char c : line) {
      if (c == ' ' || c == '\t') {
        if (!cur.empty()) fields.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) fields.push_back(cur);
    // The name starts the line (the kernel never indents).
    if (fields.size() != 2 || line.front() == ' ' || line.front() == '\t') continue;
    bool ok = true;
    std::uint64_t v = 0;
    for (char c : fields[1]) {
      if (c < '0' || c > '9') ok = false;
      if (!ok) break;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) ok = false;
      v = v * 10 + d;
    }
    if (ok) out.emplace(fields[0], v);
  }
  return out;
}

std::optional<std::uint64_t> lookup(const std::map<std::string, std::uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const VmStat v = parse_vmstat(text);

  const auto ref = reference(text);
  FUZZ_CHECK(v.pswpin == lookup(ref, "pswpin"));
  FUZZ_CHECK(v.pswpout == lookup(ref, "pswpout"));
  FUZZ_CHECK(v.pgmajfault == lookup(ref, "pgmajfault"));
  FUZZ_CHECK(v.pgpgin == lookup(ref, "pgpgin"));
  FUZZ_CHECK(v.pgpgout == lookup(ref, "pgpgout"));
  FUZZ_CHECK(v.oom_kill == lookup(ref, "oom_kill"));

  MetricWriter w;
  render_vmstat(v, w);
  const auto families = fuzz::finish_and_check(std::move(w));

  auto expect = [&](const MetricDef& def, const std::optional<std::uint64_t>& value, std::uint64_t scale) {
    const auto* f = fuzz::find_family(families, def.name);
    const bool fits = value && *value <= std::numeric_limits<std::uint64_t>::max() / scale;
    FUZZ_CHECK(!f == !fits, std::string(def.name));
    if (!f) return;
    FUZZ_CHECK(f->metric.size() == 1, std::string(def.name));
    FUZZ_CHECK(f->metric[0].label.empty(), std::string(def.name));
    FUZZ_CHECK(f->metric[0].counter.value == static_cast<double>(*value * scale), std::string(def.name));
  };
  expect(metric::swap_in_pages, v.pswpin, 1);
  expect(metric::swap_out_pages, v.pswpout, 1);
  expect(metric::major_faults, v.pgmajfault, 1);
  expect(metric::page_in_bytes, v.pgpgin, 1024);
  expect(metric::page_out_bytes, v.pgpgout, 1024);
  expect(metric::oom_kills, v.oom_kill, 1);
  return 0;
}
