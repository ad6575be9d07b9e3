// The power probe's pieces that meet outside text: hwmon millidegrees
// (temp*_input, _max, _crit), the RAPL wrap arithmetic on energy_uj /
// max_energy_range_uj values (parsed with text::parse_u64, fuzzed in
// fuzz_text), and the zone labels made from powercap `name` files.
//
// Input: the whole text is one hwmon attribute; its first line, as
// "LAST NOW RANGE", a pair of energy_uj readings and the range; every further
// line "DIRECTORY NAME [PARENT_NAME]" a zone.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/text.h"
#include "probes/hwmon.h"
#include "probes/power.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);

  // Millidegrees: a value only for a whole signed number, and exactly it / 1000.
  if (auto c = parse_hwmon_millicelsius(text)) {
    auto v = text::parse_i64(text::trim(text));
    FUZZ_CHECK(v.has_value());
    FUZZ_CHECK(*c == static_cast<double>(*v) / 1000.0);
  }

  text::Lines lines(text);
  std::string_view line;
  if (lines.next(line)) {
    text::Fields f(line);
    auto last = text::parse_u64(f.next()), now = text::parse_u64(f.next());
    auto range_field = f.next();
    auto range = text::parse_u64(range_field);
    if (last && now) {
      auto delta = rapl_energy_delta_uj(*last, *now, range);
      if (*now >= *last) {
        FUZZ_CHECK(delta && *delta == *now - *last);
      } else if (!range || *last > *range) {
        FUZZ_CHECK(!delta);
      } else {
        // A wrap: within one turn of the counter, and it lands on `now`.
        FUZZ_CHECK(delta && *delta <= *range);
        __extension__ using u128 = unsigned __int128;
        FUZZ_CHECK((u128{*last} + *delta) % (u128{*range} + 1) == *now);
      }
    }
  }

  std::vector<ZoneName> zones;
  std::set<std::string> directories;
  while (lines.next(line)) {
    text::Fields f(line);
    ZoneName z{std::string(f.next()), std::string(f.next()), std::string(f.next())};
    if (z.directory.empty() || !directories.insert(z.directory).second) continue;  // sysfs names are unique
    zones.push_back(std::move(z));
  }
  auto labels = unique_zone_labels(zones);
  FUZZ_CHECK(labels.size() == zones.size());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    FUZZ_CHECK(seen.insert(labels[i]).second, labels[i]);
    const auto& z = zones[i];
    FUZZ_CHECK(labels[i] == z.name || labels[i] == z.parent_name + "/" + z.name || labels[i] == z.directory,
               labels[i]);
  }
  return 0;
}
