#pragma once
// Shared sysfs/devfs lookups: attributes, directory listings, and the block
// device topology (a /dev path or a major:minor to a kernel block device name,
// a partition or device-mapper/md device to the whole disks behind it).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_cache.h"
#include "core/host_roots.h"

namespace tierscope::sysfs {

// One-line attribute, trimmed; nullopt when missing or unreadable.
std::optional<std::string> read_attribute(FileCache& files, const std::filesystem::path& path,
                                          std::string& scratch);

// Names in a directory, sorted; empty when it does not exist.
std::vector<std::string> list_dir(const std::filesystem::path& dir);

// "/dev/mapper/vg-swap" -> "dm-2": follows symlinks inside the devfs root, then
// checks /sys/class/block; falls back to the device number of a real block
// node (stat). nullopt when the path is not under /dev.
std::optional<std::string> block_device_for_dev_path(const HostRoots& roots, std::string_view dev_path);

// 259:2 -> "nvme0n1p2" through /sys/dev/block/<major>:<minor>.
std::optional<std::string> block_device_for_devnum(const HostRoots& roots, unsigned major, unsigned minor);

// The whole disks behind a block device: itself for a disk, the parent for a
// partition, the disks under /sys/block/<dev>/slaves for dm/md (recursively).
// Empty when sysfs does not say.
std::vector<std::string> whole_disks_of(const HostRoots& roots, std::string_view block_device);

}  // namespace tierscope::sysfs
