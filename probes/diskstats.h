#pragma once
// /proc/diskstats (Documentation/admin-guide/iostats.rst): all fields,
// including discard (kernel 4.18+) and flush (5.5+), for whole devices.
// Partitions, loop, ram and zram devices are excluded by default; the config
// sets the include/exclude regular expressions.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "probes/probe.h"
#include "probes/snapshot.h"

namespace tierscope {

struct ProbeRegistration;

class MetricWriter;

struct DiskStat {
  // Field numbers of iostats.rst, 1-based; index = field - 1.
  enum Field : std::size_t {
    reads_completed = 0, reads_merged, sectors_read, read_ms,
    writes_completed, writes_merged, sectors_written, write_ms,
    in_progress, io_ms, weighted_io_ms,
    discards_completed, discards_merged, sectors_discarded, discard_ms,
    flushes_completed, flush_ms,
    kFieldCount
  };
  std::string name;
  unsigned major = 0, minor = 0;
  std::array<std::uint64_t, kFieldCount> values{};
  std::size_t field_count = 0;  // 11, 15 or 17 depending on the kernel

  std::optional<std::uint64_t> get(Field f) const {
    return f < field_count ? std::optional<std::uint64_t>(values[f]) : std::nullopt;
  }
};

struct DiskStats {
  std::vector<DiskStat> devices;
};

// Lines "major minor name f1 ... fN" with N >= 11 (older kernels' 4-field
// partition lines and anything malformed are skipped; fields past 17 are
// ignored).
std::vector<DiskStat> parse_diskstats(std::string_view text);

// Which devices are exported: a name is kept when it matches `include` (or
// include is empty) and does not match `exclude`. Decisions are cached per name.
class DeviceFilter {
 public:
  // Default exclude: partitions (sda1, nvme0n1p2, mmcblk0p1, md0p1), loop, ram,
  // zram, floppy and optical devices.
  static constexpr std::string_view kDefaultExclude =
      "^(ram|loop|zram|fd|sr)[0-9]+$|^(sd|hd|vd|xvd)[a-z]+[0-9]+$|^(nvme[0-9]+(c[0-9]+)?n[0-9]+|mmcblk[0-9]+|md[0-9]+)p[0-9]+$";

  DeviceFilter() : DeviceFilter("", std::string(kDefaultExclude)) {}
  // Throws std::regex_error on a bad expression.
  DeviceFilter(const std::string& include, const std::string& exclude);
  bool keep(const std::string& name);
  // The number of devices in a sample: the verdict cache holds twice that
  // (at least 4096), so a host with 100 000 devices matches each name once,
  // while names that come and go cannot grow it without bound.
  void expect(std::size_t devices) { limit_ = std::max<std::size_t>(4096, 2 * devices); }

 private:
  std::optional<std::regex> include_, exclude_;
  std::unordered_map<std::string, bool> cache_;
  std::size_t limit_ = 4096;
};

// Config section `diskstats`: which block devices are exported, as
// ECMAScript regular expressions on the kernel name; empty include = all.
struct DiskstatsSettings {
  std::string device_include;
  std::string device_exclude{DeviceFilter::kDefaultExclude};
  bool operator==(const DiskstatsSettings&) const = default;
};

class DiskStatsProbe final : public Probe {
 public:
  explicit DiskStatsProbe(DeviceFilter filter) : filter_(std::move(filter)) {}
  std::string_view name() const override { return "diskstats"; }
  ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) override;

 private:
  DeviceFilter filter_;
};

void render_diskstats(const DiskStats& d, MetricWriter& w);

// What the diskstats probe puts in the snapshot.
inline constexpr ReadingKey<DiskStats> kDiskstats{"diskstats"};

// The registration entry (probes/registry.h).
extern const ProbeRegistration kDiskstatsProbe;

}  // namespace tierscope
