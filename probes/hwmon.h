#pragma once
// hwmon (Documentation/hwmon/sysfs-interface.rst) pieces shared by the probes
// that read it: the amdgpu GPU probe (temperatures, power, energy of a card)
// and the power probe (CPU temperatures of coretemp, k10temp, zenpower,
// cpu_thermal).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_cache.h"

namespace tierscope {

// hwmon temp*_input, temp*_max, temp*_crit in millidegrees Celsius (signed)
// -> °C.
std::optional<double> parse_hwmon_millicelsius(std::string_view text);
// hwmon power*_ (µW) and energy*_input (µJ) -> W and J.
std::optional<double> parse_hwmon_micro(std::string_view text);

// One temperature channel of a hwmon directory.
struct HwmonTemperature {
  std::string base;   // "temp2": the prefix of temp2_input, temp2_max, temp2_crit
  std::string label;  // temp2_label ("junction", "Package id 0", "Tctl"), else the base
};

// The temperature channels of `hwmon` (those with a temp<N>_input file), in
// index order, each with its label. Empty when the directory does not exist.
std::vector<HwmonTemperature> hwmon_temperatures(FileCache& files, const std::filesystem::path& hwmon,
                                                 std::string& scratch);

}  // namespace tierscope
