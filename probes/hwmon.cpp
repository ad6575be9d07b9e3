#include "probes/hwmon.h"

#include <algorithm>
#include <utility>

#include "core/text.h"
#include "probes/sysfs.h"

namespace tierscope {

std::optional<double> parse_hwmon_millicelsius(std::string_view text) {
  auto v = text::parse_i64(text::trim(text));
  if (!v) return std::nullopt;
  return static_cast<double>(*v) / 1000.0;
}

std::optional<double> parse_hwmon_micro(std::string_view text) {
  auto v = text::parse_u64(text::trim(text));
  if (!v) return std::nullopt;
  return static_cast<double>(*v) / 1e6;
}

std::vector<HwmonTemperature> hwmon_temperatures(FileCache& files, const std::filesystem::path& hwmon,
                                                 std::string& scratch) {
  std::vector<std::pair<std::uint64_t, std::string>> found;  // index, "tempN"
  for (const auto& name : sysfs::list_dir(hwmon)) {
    std::string_view n = name;
    constexpr std::string_view prefix = "temp", suffix = "_input";
    if (n.size() <= prefix.size() + suffix.size() || n.substr(0, prefix.size()) != prefix ||
        n.substr(n.size() - suffix.size()) != suffix)
      continue;
    auto index = text::parse_u64(n.substr(prefix.size(), n.size() - prefix.size() - suffix.size()));
    if (index) found.emplace_back(*index, std::string(n.substr(0, n.size() - suffix.size())));
  }
  std::sort(found.begin(), found.end());
  std::vector<HwmonTemperature> out;
  out.reserve(found.size());
  for (auto& [index, base] : found) {
    auto label = sysfs::read_attribute(files, hwmon / (base + "_label"), scratch);
    std::string shown = label && !label->empty() ? std::move(*label) : base;
    out.push_back({std::move(base), std::move(shown)});
  }
  return out;
}

}  // namespace tierscope
