#pragma once
// /proc/swaps: each swap device or file, its size and use, and the block
// device behind it. This is how "SSD swap on the Phison drive" becomes
// visible: a swap partition resolves through /dev and /sys/class/block, a swap
// file through the mount that holds it (/proc/self/mountinfo), and either one
// further to the whole disk(s) behind partitions and dm/md devices.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

class MetricWriter;

struct SwapArea {
  std::string filename;          // unescaped, as /proc/swaps names it
  std::string type;              // partition | file
  std::uint64_t size_bytes = 0;  // Size column (KiB) x 1024
  std::uint64_t used_bytes = 0;  // Used column (KiB) x 1024
  std::int64_t priority = 0;
  // Filled by the probe from sysfs/mountinfo; empty when unknown.
  std::optional<std::string> block_device;  // partition or fs device, e.g. nvme0n1p2, dm-2
  std::vector<std::string> disks;           // whole disks behind it, e.g. nvme0n1
};

struct Swaps {
  std::vector<SwapArea> areas;
};

// The header line is skipped; malformed lines are skipped.
std::vector<SwapArea> parse_swaps(std::string_view text);

struct MountEntry {
  unsigned major = 0, minor = 0;
  std::string mount_point;  // unescaped
  std::string fstype;
  std::string source;       // unescaped, e.g. /dev/nvme0n1p2
};

// /proc/<pid>/mountinfo lines (proc(5)); malformed lines are skipped.
std::vector<MountEntry> parse_mountinfo(std::string_view text);

// The mount that holds `path`: the longest mount point that is a path prefix
// of it (the last such line wins, as later mounts cover earlier ones).
const MountEntry* mount_for_path(const std::vector<MountEntry>& mounts, std::string_view path);

class SwapsProbe final : public Probe {
 public:
  std::string_view name() const override { return "swaps"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

 private:
  struct Resolution {
    std::optional<std::string> block_device;
    std::vector<std::string> disks;
  };
  Resolution resolve(ProbeContext& ctx, const SwapArea& area);
  // Topology is resolved once per swap area and kept while it stays active.
  std::map<std::string, Resolution> resolved_;
  HostRoots resolved_for_;
};

void render_swaps(const Swaps& s, MetricWriter& w);

// What the swaps probe puts in the snapshot.
inline constexpr ReadingKey<Swaps> kSwaps{"swaps"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kSwapsProbe;

}  // namespace tierscope
