#include "probes/sysfs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <system_error>

#include "core/text.h"

namespace fs = std::filesystem;

namespace tierscope::sysfs {

std::optional<std::string> read_attribute(FileCache& files, const fs::path& path, std::string& scratch) {
  if (files.read(path, scratch, FileCache::Read::attribute) != 0) return std::nullopt;
  return std::string(text::trim(scratch));
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Basename of where a sysfs symlink points, e.g. class/block/sda1 -> "sda".
std::optional<std::string> canonical_parent_name(const fs::path& p) {
  std::error_code ec;
  auto c = fs::canonical(p, ec);
  if (ec) return std::nullopt;
  return c.parent_path().filename().string();
}

void collect_disks(const HostRoots& roots, const std::string& dev, int depth, std::vector<std::string>& out) {
  if (depth > 8 || dev.empty()) return;
  auto slaves = list_dir(roots.sys("block") / dev / "slaves");
  if (slaves.empty()) slaves = list_dir(roots.sys("class/block") / dev / "slaves");
  if (!slaves.empty()) {
    for (const auto& s : slaves) collect_disks(roots, s, depth + 1, out);
    return;
  }
  if (path_exists(roots.sys("block") / dev)) {
    if (std::find(out.begin(), out.end(), dev) == out.end()) out.push_back(dev);
    return;
  }
  auto cls = roots.sys("class/block") / dev;
  if (path_exists(cls / "partition")) {
    if (auto parent = canonical_parent_name(cls)) collect_disks(roots, *parent, depth + 1, out);
  }
}

}  // namespace

std::optional<std::string> block_device_for_devnum(const HostRoots& roots, unsigned major, unsigned minor) {
  auto link = roots.sys("dev/block") / (std::to_string(major) + ":" + std::to_string(minor));
  std::error_code ec;
  auto c = fs::canonical(link, ec);
  if (ec) return std::nullopt;
  return c.filename().string();
}

std::optional<std::string> block_device_for_dev_path(const HostRoots& roots, std::string_view dev_path) {
  constexpr std::string_view prefix = "/dev/";
  if (dev_path.substr(0, prefix.size()) != prefix || dev_path.size() == prefix.size()) return std::nullopt;
  fs::path p = roots.devfs / dev_path.substr(prefix.size());
  // Follow links such as /dev/mapper/vg-swap -> ../dm-2 without leaving the root.
  for (int hop = 0; hop < 8; ++hop) {
    std::error_code ec;
    if (!fs::is_symlink(p, ec)) break;
    auto target = fs::read_symlink(p, ec);
    if (ec) break;
    if (target.is_absolute()) {
      auto t = target.native();
      if (t.substr(0, prefix.size()) != prefix) break;
      p = roots.devfs / t.substr(prefix.size());
    } else {
      p = (p.parent_path() / target).lexically_normal();
    }
  }
  std::string name = p.filename().string();
  if (path_exists(roots.sys("class/block") / name)) return name;
  struct stat st{};
  if (::stat(p.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    if (auto n = block_device_for_devnum(roots, ::major(st.st_rdev), ::minor(st.st_rdev))) return n;
  }
  // The kernel names swap partitions by their device node, whose basename is
  // the kernel's device name unless it went through a link we could not see.
  return name.empty() ? std::nullopt : std::optional<std::string>(name);
}

std::vector<std::string> whole_disks_of(const HostRoots& roots, std::string_view block_device) {
  std::vector<std::string> out;
  collect_disks(roots, std::string(block_device), 0, out);
  return out;
}

}  // namespace tierscope::sysfs
