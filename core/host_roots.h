#pragma once
// Where the probes read the host from. Defaults are the live system; tests and
// `--procfs/--sysfs/--devfs` point them at a captured or fixture tree instead.
// No probe ever names a literal /proc, /sys or /dev: it asks HostRoots.

#include <filesystem>
#include <string_view>

namespace tierscope {

struct HostRoots {
  std::filesystem::path procfs{"/proc"};
  std::filesystem::path sysfs{"/sys"};
  std::filesystem::path devfs{"/dev"};

  std::filesystem::path proc(std::string_view relative) const { return procfs / relative; }
  std::filesystem::path sys(std::string_view relative) const { return sysfs / relative; }
  std::filesystem::path dev(std::string_view relative) const { return devfs / relative; }

  bool operator==(const HostRoots&) const = default;
};

}  // namespace tierscope
