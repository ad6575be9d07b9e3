// /proc/diskstats: parse_diskstats + DeviceFilter + render_diskstats.
#include <cstdint>
#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "core/text.h"
#include "probes/diskstats.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

// The line of `text` that the parser took `d` from: "major minor name v1 ...".
bool has_line(std::string_view text, const DiskStat& d) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    if (text::parse_u64(f.next()) != d.major || text::parse_u64(f.next()) != d.minor || f.next() != d.name) continue;
    std::size_t n = 0;
    bool same = true;
    for (auto tok = f.next(); !tok.empty(); tok = f.next(), ++n)
      if (n < d.field_count) same = same && text::parse_u64(tok) == d.values[n];
    if (same && (n == d.field_count || (d.field_count == DiskStat::kFieldCount && n > d.field_count))) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  DiskStats d;
  d.devices = parse_diskstats(text);

  std::set<std::string> names;
  std::size_t series = 0;
  for (const auto& dev : d.devices) {
    FUZZ_CHECK(dev.field_count >= 11 && dev.field_count <= 17, dev.name);
    FUZZ_CHECK(!dev.name.empty() && dev.name.find_first_of(" \t\n") == std::string::npos, dev.name);
    FUZZ_CHECK(names.insert(dev.name).second, "device twice: " + dev.name);
    FUZZ_CHECK(has_line(text, dev), dev.name);
    for (std::size_t i = 0; i < DiskStat::kFieldCount; ++i) {
      const auto v = dev.get(static_cast<DiskStat::Field>(i));
      FUZZ_CHECK(v.has_value() == (i < dev.field_count));
      if (i >= dev.field_count) FUZZ_CHECK(dev.values[i] == 0);  // nothing written past the count
    }
    series += dev.field_count;
  }

  // The default filter: a filter that has cached thousands of names over the
  // run (and cleared its cache) decides as the bare expression does; and
  // partitions of the common disk types are dropped.
  static DeviceFilter long_lived;
  static const std::regex exclude(std::string(DeviceFilter::kDefaultExclude), std::regex::ECMAScript);
  for (const auto& dev : d.devices) {
    const bool keep = !std::regex_search(dev.name, exclude);
    FUZZ_CHECK(long_lived.keep(dev.name) == keep, dev.name);
    FUZZ_CHECK(long_lived.keep(dev.name) == keep, dev.name);
  }
  FUZZ_CHECK(!long_lived.keep("nvme0n1p2") && !long_lived.keep("sda1") && !long_lived.keep("loop0") &&
             long_lived.keep("nvme0n1"));

  // Label values are made valid UTF-8: names that differ only in invalid
  // bytes share a label, and the first series of each field is exported.
  // A field is exported once per label: a label's devices together give as
  // many series as the one with the most fields.
  std::map<std::string, std::size_t> fields_by_label;
  for (const auto& dev : d.devices) {
    std::string label = dev.name;
    text::make_valid_utf8(label);
    auto& n = fields_by_label[label];
    n = std::max(n, dev.field_count);
  }
  std::set<std::string> labels;
  std::size_t expected_series = 0;
  for (const auto& [label, n] : fields_by_label) {
    labels.insert(label);
    expected_series += n;
  }

  MetricWriter w;
  render_diskstats(d, w);
  const auto families = fuzz::finish_and_check(std::move(w));
  std::size_t rendered = 0;
  for (const auto& f : families) {
    FUZZ_CHECK(f.name.starts_with("tierscope_disk_"), f.name);
    for (const auto& m : f.metric) {
      FUZZ_CHECK(m.label.size() == 1 && m.label[0].name == "device", f.name);
      FUZZ_CHECK(labels.count(m.label[0].value) == 1, f.name);
      FUZZ_CHECK(fuzz::value_of(f, m) >= 0, f.name);
    }
    rendered += f.metric.size();
  }
  FUZZ_CHECK(rendered == expected_series);  // one series per parsed field
  FUZZ_CHECK(expected_series <= series);
  return 0;
}
